//! Prints the default population's figures beside the pilot's: `cargo run --release -p
//! incentive-simulations --example calibrate [MEMBERS] [POPULATION.toml]`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let members = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let model = match std::env::args().nth(2) {
        Some(path) => {
            incentive_simulations::Population::from_toml(&std::fs::read_to_string(&path)?, &path)?
        }
        None => incentive_simulations::Population::default(),
    };
    let first = incentive_engine::Period::parse("2026-01")?;
    let got = incentive_simulations::calibration::measure(&model, members, 1, first)?;
    println!(
        "model {}\npilot {}",
        serde_json::to_string(&got)?,
        serde_json::to_string(&incentive_simulations::calibration::PILOT)?
    );
    Ok(())
}
