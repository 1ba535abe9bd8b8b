fn main() {
    println!("sf-emulator: under construction");
}
