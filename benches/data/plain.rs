// A plain `#[derive(Deserialize)]` mirror of the benchmark checkout session
// (`checkout_session_value`), written the way a minimal hand-rolled client would: owned
// `String`s, `i64` amounts, `Option`s, `Value` for the open `config` object, unions read as
// structs with a `type` string, unknown members ignored, nothing validated. It is the
// reference point for "a plain derived struct": `acp bench` times it against the same `Value`
// baseline as `parse_checkout_session`, so the gap between the two rows is the price of what
// the crate does beyond it (keeping unknown members, open enums, validated money, currencies,
// timestamps and URIs, id newtypes, discriminated unions). Shared with `include!`.

#[allow(dead_code)]
mod plain {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub(super) struct Session {
        id: String,
        protocol: Option<Protocol>,
        capabilities: Capabilities,
        status: String,
        currency: String,
        pub(super) line_items: Vec<LineItem>,
        fulfillment_details: Option<FulfillmentDetails>,
        selected_fulfillment_options: Option<Vec<SelectedOption>>,
        pub(super) totals: Vec<Total>,
        fulfillment_options: Vec<FulfillmentOption>,
        marketing_consent_options: Option<Vec<ConsentOption>>,
        messages: Vec<Message>,
        links: Vec<Link>,
    }

    #[derive(Deserialize)]
    pub(super) struct Protocol {
        version: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Capabilities {
        payment: Option<Payment>,
        interventions: Option<Interventions>,
    }

    #[derive(Deserialize)]
    pub(super) struct Payment {
        handlers: Vec<Handler>,
    }

    #[derive(Deserialize)]
    pub(super) struct Handler {
        id: String,
        name: String,
        display_name: Option<String>,
        version: String,
        spec: String,
        requires_delegate_payment: bool,
        requires_pci_compliance: bool,
        psp: String,
        config_schema: String,
        instrument_schemas: Vec<String>,
        config: serde_json::Map<String, serde_json::Value>,
        display_order: Option<i64>,
    }

    #[derive(Deserialize)]
    pub(super) struct Interventions {
        supported: Vec<String>,
        required: Option<Vec<String>>,
        enforcement: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct LineItem {
        id: String,
        item: Item,
        quantity: i64,
        name: Option<String>,
        description: Option<String>,
        images: Option<Vec<String>>,
        unit_amount: Option<i64>,
        custom_attributes: Option<Vec<Attribute>>,
        disclosures: Option<Vec<Disclosure>>,
        pub(super) totals: Vec<Total>,
    }

    #[derive(Deserialize)]
    pub(super) struct Item {
        id: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Attribute {
        display_name: String,
        value: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Disclosure {
        #[serde(rename = "type")]
        kind: String,
        content_type: String,
        content: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Total {
        #[serde(rename = "type")]
        kind: String,
        display_text: String,
        amount: i64,
        description: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct FulfillmentDetails {
        name: Option<String>,
        phone_number: Option<String>,
        email: Option<String>,
        address: Option<Address>,
    }

    #[derive(Deserialize)]
    pub(super) struct Address {
        name: String,
        line_one: String,
        line_two: Option<String>,
        city: String,
        state: String,
        country: String,
        postal_code: String,
    }

    #[derive(Deserialize)]
    pub(super) struct SelectedOption {
        #[serde(rename = "type")]
        kind: String,
        option_id: String,
        item_ids: Vec<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct FulfillmentOption {
        #[serde(rename = "type")]
        kind: String,
        id: String,
        title: String,
        description: Option<String>,
        carrier: Option<String>,
        earliest_delivery_time: Option<String>,
        latest_delivery_time: Option<String>,
        pub(super) totals: Vec<Total>,
    }

    #[derive(Deserialize)]
    pub(super) struct ConsentOption {
        channel: String,
        display_text: String,
        privacy_policy_url: Option<String>,
        is_subscribed: Option<bool>,
    }

    #[derive(Deserialize)]
    pub(super) struct Message {
        #[serde(rename = "type")]
        kind: String,
        content_type: String,
        content: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Link {
        #[serde(rename = "type")]
        kind: String,
        url: String,
    }
}
