//! Opaque identifier newtypes. They compare and serialize as their string and
//! are never interpreted; distinct types stop a session id being passed where
//! an order id is expected.

use serde::{Deserialize, Serialize};

macro_rules! wire_id {
    ($( $(#[$meta:meta])* $name:ident ),* $(,)?) => {$(
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps an identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}

wire_id! {
    /// A checkout session id (`CheckoutSession.id`, `Order.checkout_session_id`,
    /// `Allowance.checkout_session_id`).
    CheckoutSessionId,
    /// An order id (`Order.id`).
    OrderId,
    /// A line item id (`LineItem.id`).
    LineItemId,
    /// An item id: the seller's product or variant id (`Item.id`).
    ItemId,
    /// A payment handler id (`PaymentHandler.id`, `PaymentData.handler_id`).
    PaymentHandlerId,
    /// A fulfillment option id (`FulfillmentOption*.id`,
    /// `SelectedFulfillmentOption.option_id`).
    FulfillmentOptionId,
    /// A merchant id (`Allowance.merchant_id`, `DelegateAuthenticationCreateRequest.merchant_id`).
    MerchantId,
    /// A delegated payment token id (`DelegatePaymentResponse.id`, `vt_…`).
    PaymentTokenId,
    /// A delegate authentication session id.
    AuthenticationSessionId,
    /// A cart id (`Cart.id`).
    CartId,
    /// A product feed id (`FeedMetadata.id`).
    FeedId,
    /// A feed product id (`Product.id`).
    ProductId,
    /// A feed variant id (`Variant.id`); checkout `Item.id` values name variants.
    VariantId,
}
