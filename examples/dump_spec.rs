fn main() {
    let s = salesforce_connector::config::source_spec();
    println!("{}", serde_json::to_string_pretty(&s).unwrap());
    let d = salesforce_connector::config::destination_spec();
    println!("{}", serde_json::to_string_pretty(&d).unwrap());
}
