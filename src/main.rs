fn main() {
    println!("salesforce-connector: under construction");
}
