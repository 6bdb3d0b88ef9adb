//! Prints the default population's figures beside the pilot's, its members behaving as under
//! `policies/tangdaifu-smbg` (the pilot's plan): `cargo run --release -p incentive-simulations
//! --example calibrate [MEMBERS] [POPULATION.toml]`.
use incentive_engine::policy::{PolicySource, SourceFile, load};

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
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/tangdaifu-smbg");
    let files = ["policy.toml", "rules.rhai"]
        .iter()
        .map(|f| Ok(SourceFile::new(*f, std::fs::read_to_string(dir.join(f))?)))
        .collect::<Result<Vec<_>, std::io::Error>>()?;
    let plan = load(&PolicySource {
        name: "tangdaifu-smbg".into(),
        files,
    })
    .map_err(|d| format!("{d:?}"))?
    .policy;
    let first = incentive_engine::Period::parse("2026-01")?;
    let behaviour = incentive_simulations::calibration::behaviour_under(
        &model,
        &plan,
        members.min(1_000),
        1,
        first,
    )?;
    let got = incentive_simulations::calibration::measure(&model, &behaviour, members, 1, first)?;
    println!(
        "behaviour {behaviour:?}\nmodel {}\npilot {}",
        serde_json::to_string(&got)?,
        serde_json::to_string(&incentive_simulations::calibration::PILOT)?
    );
    Ok(())
}
