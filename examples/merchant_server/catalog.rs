//! The products the example merchant sells, read from an ACP product feed
//! (`feed.ProductsResponse`, strictly validated against the official schema). A checkout
//! `item.id` is a feed **variant** id, priced from the variant's `price`.
//!
//! Two merchant-side facts come from standard feed fields: units on hand from
//! `availability` (`available: false`, `out_of_stock` or `discontinued` → 0, `limited_stock`
//! → 1, anything else → [`DEFAULT_STOCK`]) and digital delivery from a category
//! `{"taxonomy": "fulfillment", "value": "digital"}` (everything else ships), and
//! personalisation from a category `{"taxonomy": "personalization", "value": "engraving"}`: the
//! line item then says, in `custom_attributes`, how the engraving is made. ACP 2026-04-17 has no
//! field for the buyer's engraving text (a request `Item` is only `id`, `name`, `unit_amount`),
//! so this merchant collects it after the purchase.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError, RwLock};

use agentic_commerce::parse;
use agentic_commerce::spec::v2026_04_17::feed::{
    Availability, Price as FeedPrice, Product, ProductsResponse,
};

/// The catalog shipped with the examples.
pub(crate) const DEFAULT_CATALOG: &str = include_str!("../catalog.json");

/// Units on hand of an available variant without `limited_stock`.
pub(crate) const DEFAULT_STOCK: i64 = 10;

/// Largest accepted unit price (minor units), so totals can never overflow `i64`.
pub(crate) const MAX_UNIT_AMOUNT: i64 = 1_000_000_000;

/// A variant's current price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Price {
    /// Unit price in minor units (`1..=MAX_UNIT_AMOUNT`).
    pub(crate) amount: i64,
    /// Lowercase ISO 4217 code.
    pub(crate) currency: String,
}

/// One sellable variant.
#[derive(Debug)]
pub(crate) struct CatalogItem {
    /// Feed variant id (the checkout `item.id`).
    pub(crate) id: String,
    /// Feed product id.
    pub(crate) product_id: String,
    /// Display title.
    pub(crate) title: String,
    /// The price new pricing uses; the back office changes it
    /// ([`Catalog::set_price`]) while sessions read it, and a session keeps the unit price it
    /// was priced at until it is priced again.
    price: RwLock<Price>,
    /// Delivered digitally (no address, no shipping).
    pub(crate) digital: bool,
    /// Personalised to order (engraved).
    pub(crate) engraved: bool,
}

/// The catalog plus live stock.
#[derive(Debug)]
pub(crate) struct Catalog {
    items: BTreeMap<String, CatalogItem>,
    stock: Mutex<BTreeMap<String, i64>>,
    /// The feed as read, pushed to an agent platform with live availability
    /// ([`feed_products`](Self::feed_products)).
    products: Vec<Product>,
    /// Units on hand when the feed was read: a variant still at them keeps its feed
    /// `availability` as written (`backorder`, `preorder`, no availability at all).
    initial: BTreeMap<String, i64>,
    /// Prices when the feed was read: a variant still at its price keeps the feed's `price`
    /// as written.
    initial_prices: BTreeMap<String, Price>,
}

impl CatalogItem {
    /// The current price.
    pub(crate) fn price(&self) -> Price {
        self.price
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The current unit price in minor units.
    pub(crate) fn unit_amount(&self) -> i64 {
        self.price
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .amount
    }
}

impl Catalog {
    /// Reads a `feed.ProductsResponse` JSON document.
    ///
    /// # Errors
    ///
    /// A message naming the JSONPath of the first problem.
    pub(crate) fn from_feed_json(bytes: &[u8]) -> Result<Self, String> {
        let feed: ProductsResponse = parse::from_slice_strict(bytes).map_err(|e| e.to_string())?;
        let mut items = BTreeMap::new();
        let mut stock = BTreeMap::new();
        for (p, product) in feed.products.iter().enumerate() {
            for (v, variant) in product.variants.iter().enumerate() {
                let at = format!("$.products[{p}].variants[{v}]");
                let price = variant
                    .price
                    .as_ref()
                    .ok_or(format!("{at}.price is required to sell a variant"))?;
                if !(1..=MAX_UNIT_AMOUNT).contains(&price.amount.0) {
                    return Err(format!("{at}.price.amount must be 1..={MAX_UNIT_AMOUNT}"));
                }
                let availability = variant.availability.as_ref();
                let units = match (
                    availability.and_then(|a| a.available),
                    availability.and_then(|a| a.status.as_deref()),
                ) {
                    (Some(false), _) | (_, Some("out_of_stock" | "discontinued")) => 0,
                    (_, Some("limited_stock")) => 1,
                    _ => DEFAULT_STOCK,
                };
                let digital =
                    variant.categories.iter().flatten().any(|c| {
                        c.taxonomy.as_deref() == Some("fulfillment") && c.value == "digital"
                    });
                let engraved = variant.categories.iter().flatten().any(|c| {
                    c.taxonomy.as_deref() == Some("personalization") && c.value == "engraving"
                });
                let item = CatalogItem {
                    id: variant.id.as_str().to_owned(),
                    product_id: product.id.as_str().to_owned(),
                    title: variant.title.clone(),
                    price: RwLock::new(Price {
                        amount: price.amount.0,
                        currency: price.currency.to_lowercase().as_str().to_owned(),
                    }),
                    digital,
                    engraved,
                };
                stock.insert(item.id.clone(), units);
                if items.insert(item.id.clone(), item).is_some() {
                    return Err(format!("{at}.id is a duplicate variant id"));
                }
            }
        }
        Ok(Self {
            initial_prices: items.values().map(|i| (i.id.clone(), i.price())).collect(),
            items,
            initial: stock.clone(),
            stock: Mutex::new(stock),
            products: feed.products,
        })
    }

    /// The catalog's currency when every item shares one: what an agent on a version before
    /// 2026-01-30 (whose create request names no currency) is served in.
    pub(crate) fn currency(&self) -> Option<String> {
        let mut all = self.items.values().map(|i| i.price().currency);
        let first = all.next()?;
        all.all(|c| c == first).then_some(first)
    }

    /// Sets the price of variant `id` for pricing from now on (sessions priced before keep
    /// theirs until they are priced again); the new price, or `None` for an unknown variant.
    /// The caller checks `amount` is `1..=MAX_UNIT_AMOUNT` and `currency` an ISO 4217 code.
    pub(crate) fn set_price(&self, id: &str, amount: i64, currency: Option<&str>) -> Option<Price> {
        let item = self.items.get(id)?;
        let mut price = item.price.write().unwrap_or_else(PoisonError::into_inner);
        price.amount = amount;
        if let Some(currency) = currency {
            currency
                .to_ascii_lowercase()
                .clone_into(&mut price.currency);
        }
        Some(price.clone())
    }

    /// The product id of variant `id`.
    pub(crate) fn product_of(&self, id: &str) -> Option<&str> {
        self.items.get(id).map(|i| i.product_id.as_str())
    }

    /// The variant with `id`.
    pub(crate) fn get(&self, id: &str) -> Option<&CatalogItem> {
        self.items.get(id)
    }

    /// Units on hand.
    pub(crate) fn stock(&self, id: &str) -> i64 {
        self.stock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// Takes `wanted` units of every `(id, quantity)` or none of them.
    ///
    /// # Errors
    ///
    /// The first id without enough stock.
    pub(crate) fn reserve(&self, wanted: &[(String, i64)]) -> Result<(), String> {
        let mut stock = self.stock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((id, _)) = wanted
            .iter()
            .find(|(id, q)| stock.get(id).copied().unwrap_or(0) < *q)
        {
            return Err(id.clone());
        }
        for (id, q) in wanted {
            if let Some(units) = stock.get_mut(id) {
                *units -= q;
            }
        }
        Ok(())
    }

    /// The feed products (every product, or those with a variant in `variants`), each
    /// variant's `availability` from its live stock: none left is `out_of_stock` (or the
    /// feed's `discontinued`), one is `limited_stock` (the unit count this catalog reads
    /// `limited_stock` as), more is `in_stock`; a variant whose stock has not moved keeps the
    /// feed's availability; a variant whose price changed carries its current price.
    /// Everything else is the feed as read.
    pub(crate) fn feed_products(&self, variants: Option<&[String]>) -> Vec<Product> {
        let stock = self
            .stock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let wanted = |product: &Product| {
            variants.is_none_or(|ids| {
                product
                    .variants
                    .iter()
                    .any(|v| ids.iter().any(|id| id == v.id.as_str()))
            })
        };
        self.products
            .iter()
            .filter(|p| wanted(p))
            .map(|product| {
                let mut product = product.clone();
                for variant in &mut product.variants {
                    let changed = self.items.get(variant.id.as_str()).and_then(|item| {
                        let now = item.price();
                        (self.initial_prices.get(&item.id) != Some(&now)).then_some(now)
                    });
                    // Built through serde so the feed's own validation of the code applies.
                    if let Some(Ok(price)) = changed.map(|now| {
                        serde_json::from_value::<FeedPrice>(serde_json::json!({
                            "amount": now.amount,
                            "currency": now.currency.to_ascii_uppercase(),
                        }))
                    }) {
                        variant.price = Some(price);
                    }
                    let id = variant.id.as_str();
                    let (Some(units), Some(initial)) = (stock.get(id), self.initial.get(id)) else {
                        continue;
                    };
                    if units == initial {
                        continue;
                    }
                    let discontinued = variant
                        .availability
                        .as_ref()
                        .is_some_and(|a| a.status.as_deref() == Some("discontinued"));
                    let mut availability = variant
                        .availability
                        .clone()
                        .unwrap_or_else(Availability::new);
                    availability.available = Some(*units > 0);
                    availability.status = Some(
                        match *units {
                            ..=0 if discontinued => "discontinued",
                            ..=0 => "out_of_stock",
                            1 => "limited_stock",
                            _ => "in_stock",
                        }
                        .to_owned(),
                    );
                    variant.availability = Some(availability);
                }
                product
            })
            .collect()
    }

    /// Puts back units taken by [`reserve`](Self::reserve) (the payment failed).
    pub(crate) fn release(&self, taken: &[(String, i64)]) {
        let mut stock = self.stock.lock().unwrap_or_else(PoisonError::into_inner);
        for (id, q) in taken {
            if let Some(units) = stock.get_mut(id) {
                *units += q;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Catalog, DEFAULT_CATALOG, DEFAULT_STOCK};

    #[test]
    fn default_catalog_is_a_strictly_valid_feed_with_stock_digital_and_personalised_goods() {
        let catalog = Catalog::from_feed_json(DEFAULT_CATALOG.as_bytes()).unwrap();
        let mug = catalog.get("var_mug_pine").unwrap();
        assert_eq!(
            (
                mug.unit_amount(),
                mug.price().currency.as_str(),
                mug.digital
            ),
            (1800, "usd", false)
        );
        assert!(catalog.get("var_guide_epub").unwrap().digital);
        assert_eq!(catalog.stock("var_mug_pine"), DEFAULT_STOCK);
        assert_eq!(catalog.stock("var_mug_slate"), 1, "limited_stock");
        assert_eq!(catalog.stock("var_headlamp"), 0, "available: false");
        let flask = catalog.get("var_flask_engraved").unwrap();
        assert!(
            flask.engraved && !flask.digital,
            "a personalised, shipped product"
        );
        assert!(!mug.engraved);
        assert_eq!(catalog.stock("var_flask_engraved"), DEFAULT_STOCK);
        assert!(
            catalog.get("prod_trail_mug").is_none(),
            "product ids are not sellable"
        );
    }

    #[test]
    fn reserve_takes_all_or_nothing_and_release_puts_back() {
        let catalog = Catalog::from_feed_json(DEFAULT_CATALOG.as_bytes()).unwrap();
        let wanted = vec![
            ("var_mug_pine".to_owned(), 2),
            ("var_mug_slate".to_owned(), 2),
        ];
        assert_eq!(catalog.reserve(&wanted), Err("var_mug_slate".to_owned()));
        assert_eq!(
            catalog.stock("var_mug_pine"),
            DEFAULT_STOCK,
            "nothing taken"
        );
        let ok = vec![("var_mug_pine".to_owned(), 2)];
        catalog.reserve(&ok).unwrap();
        assert_eq!(catalog.stock("var_mug_pine"), DEFAULT_STOCK - 2);
        catalog.release(&ok);
        assert_eq!(catalog.stock("var_mug_pine"), DEFAULT_STOCK);
    }

    #[test]
    fn feed_products_carry_live_availability_and_the_rest_of_the_feed_as_read() {
        let catalog = Catalog::from_feed_json(DEFAULT_CATALOG.as_bytes()).unwrap();
        let all = catalog.feed_products(None);
        assert_eq!(all.len(), catalog.products.len());
        let as_read = serde_json::to_value(&all).unwrap();
        let feed: serde_json::Value = serde_json::from_str(DEFAULT_CATALOG).unwrap();
        assert_eq!(
            as_read, feed["products"],
            "unchanged stock: the feed as written"
        );
        catalog
            .reserve(&[
                ("var_mug_slate".to_owned(), 1),
                ("var_mug_pine".to_owned(), 9),
            ])
            .unwrap();
        let mug = catalog.feed_products(Some(&["var_mug_pine".to_owned()]));
        assert_eq!(mug.len(), 1, "only the changed product");
        let mug = serde_json::to_value(&mug[0]).unwrap();
        assert_eq!(mug["id"], "prod_trail_mug");
        assert_eq!(
            mug["variants"][0]["availability"],
            serde_json::json!({"available": true, "status": "limited_stock"})
        );
        assert_eq!(
            mug["variants"][1]["availability"],
            serde_json::json!({"available": false, "status": "out_of_stock"})
        );
        assert_eq!(
            mug["variants"][0]["price"],
            serde_json::json!({"amount": 1800, "currency": "USD"})
        );
    }

    #[test]
    fn a_price_change_applies_to_new_reads_and_the_feed_of_that_product_only() {
        let catalog = Catalog::from_feed_json(DEFAULT_CATALOG.as_bytes()).unwrap();
        assert_eq!(
            catalog.set_price("prod_trail_mug", 1, None),
            None,
            "not a variant"
        );
        let price = catalog
            .set_price("var_mug_slate", 2100, Some("EUR"))
            .unwrap();
        assert_eq!((price.amount, price.currency.as_str()), (2100, "eur"));
        assert_eq!(catalog.get("var_mug_slate").unwrap().unit_amount(), 2100);
        assert_eq!(catalog.get("var_mug_pine").unwrap().unit_amount(), 1800);
        assert_eq!(catalog.currency(), None, "no longer one currency");
        let mug = catalog.feed_products(Some(&["var_mug_slate".to_owned()]));
        let mug = serde_json::to_value(&mug).unwrap();
        assert_eq!(mug.as_array().unwrap().len(), 1);
        assert_eq!(
            mug[0]["variants"][1]["price"],
            serde_json::json!({"amount": 2100, "currency": "EUR"})
        );
        assert_eq!(
            mug[0]["variants"][0]["price"],
            serde_json::json!({"amount": 1800, "currency": "USD"}),
            "the other variant as read"
        );
        // Back to the price as read: the feed as written again.
        catalog.set_price("var_mug_slate", 1800, Some("usd"));
        let feed: serde_json::Value = serde_json::from_str(DEFAULT_CATALOG).unwrap();
        assert_eq!(
            serde_json::to_value(catalog.feed_products(None)).unwrap(),
            feed["products"]
        );
    }

    #[test]
    fn concurrent_price_changes_and_reads_always_see_a_whole_price() {
        let catalog = Catalog::from_feed_json(DEFAULT_CATALOG.as_bytes()).unwrap();
        let (a, b) = ((1800, "usd"), (2500, "eur"));
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for i in 0..20_000 {
                    let (amount, currency) = if i % 2 == 0 { b } else { a };
                    catalog.set_price("var_mug_pine", amount, Some(currency));
                }
            });
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..20_000 {
                        let price = catalog.get("var_mug_pine").unwrap().price();
                        let seen = (price.amount, price.currency.as_str());
                        assert!(seen == a || seen == b, "a torn price: {seen:?}");
                    }
                });
            }
        });
        assert_eq!(catalog.get("var_mug_pine").unwrap().price().amount, 1800);
    }

    #[test]
    fn bad_feeds_are_rejected_with_a_json_path() {
        let unknown_member =
            br#"{"products":[{"id":"p","variants":[{"id":"v","title":"t","stock":3}]}]}"#;
        let err = Catalog::from_feed_json(unknown_member).unwrap_err();
        assert!(err.contains("$.products[0].variants[0]"), "{err}");
        let no_price = br#"{"products":[{"id":"p","variants":[{"id":"v","title":"t"}]}]}"#;
        let err = Catalog::from_feed_json(no_price).unwrap_err();
        assert!(err.contains("$.products[0].variants[0].price"), "{err}");
        let free = br#"{"products":[{"id":"p","variants":[{"id":"v","title":"t","price":{"amount":0,"currency":"USD"}}]}]}"#;
        assert!(
            Catalog::from_feed_json(free)
                .unwrap_err()
                .contains("price.amount")
        );
        let twice = br#"{"products":[{"id":"p","variants":[{"id":"v","title":"t","price":{"amount":1,"currency":"USD"}},{"id":"v","title":"u","price":{"amount":1,"currency":"USD"}}]}]}"#;
        assert!(
            Catalog::from_feed_json(twice)
                .unwrap_err()
                .contains("duplicate")
        );
    }
}
