//! The products the example merchant sells, read from an ACP product feed
//! (`feed.ProductsResponse`). A checkout `item.id` is a feed **variant** id, priced from the
//! variant's `price`.
//!
//! Two merchant-side facts the feed format has no field for are read from the variant's
//! extra members (the crate's lenient parse keeps unknown members): `"stock"` (units on hand,
//! default 10; 0 when `availability.available` is false) and `"fulfillment"` (`"digital"` or
//! `"shipping"`, the default).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use agentic_commerce::parse;
use agentic_commerce::spec::v2026_04_17::feed::ProductsResponse;

/// The catalog shipped with the examples.
pub(crate) const DEFAULT_CATALOG: &str = include_str!("../catalog.json");

/// Largest accepted unit price (minor units), so totals can never overflow `i64`.
pub(crate) const MAX_UNIT_AMOUNT: i64 = 1_000_000_000;

/// One sellable variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CatalogItem {
    /// Feed variant id (the checkout `item.id`).
    pub(crate) id: String,
    /// Feed product id.
    pub(crate) product_id: String,
    /// Display title.
    pub(crate) title: String,
    /// Unit price in minor units.
    pub(crate) unit_amount: i64,
    /// Lowercase ISO 4217 code.
    pub(crate) currency: String,
    /// Delivered digitally (no address, no shipping).
    pub(crate) digital: bool,
}

/// The catalog plus live stock.
#[derive(Debug)]
pub(crate) struct Catalog {
    items: BTreeMap<String, CatalogItem>,
    stock: Mutex<BTreeMap<String, i64>>,
}

impl Catalog {
    /// Reads a `feed.ProductsResponse` JSON document.
    ///
    /// # Errors
    ///
    /// A message naming the JSONPath of the first problem.
    pub(crate) fn from_feed_json(bytes: &[u8]) -> Result<Self, String> {
        let feed: ProductsResponse = parse::from_slice(bytes).map_err(|e| e.to_string())?;
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
                let available = variant
                    .availability
                    .as_ref()
                    .and_then(|a| a.available)
                    .unwrap_or(true);
                let units = match variant.extra.get("stock") {
                    None => 10,
                    Some(n) => n
                        .as_i64()
                        .filter(|n| *n >= 0)
                        .ok_or(format!("{at}.stock must be a non-negative integer"))?,
                };
                let digital = match variant.extra.get("fulfillment").and_then(|f| f.as_str()) {
                    None | Some("shipping") => false,
                    Some("digital") => true,
                    Some(_) => {
                        return Err(format!(
                            "{at}.fulfillment must be \"digital\" or \"shipping\""
                        ));
                    }
                };
                let item = CatalogItem {
                    id: variant.id.as_str().to_owned(),
                    product_id: product.id.as_str().to_owned(),
                    title: variant.title.clone(),
                    unit_amount: price.amount.0,
                    currency: price.currency.to_lowercase().as_str().to_owned(),
                    digital,
                };
                stock.insert(item.id.clone(), if available { units } else { 0 });
                if items.insert(item.id.clone(), item).is_some() {
                    return Err(format!("{at}.id is a duplicate variant id"));
                }
            }
        }
        Ok(Self {
            items,
            stock: Mutex::new(stock),
        })
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
