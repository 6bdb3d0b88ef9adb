//! `incentive db migrate` and `incentive admin …`: the operator's set-up.

use crate::cli::DbArgs;
use anyhow::Context as _;
use incentive_store::tenants::Role;
use incentive_store::{Store, StoreOptions};

/// The store's commands are async; the CLI runs each on a runtime of its own.
pub fn block_on<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(work)
}

pub async fn open(db: &DbArgs) -> anyhow::Result<Store> {
    Ok(Store::open(&db.db, StoreOptions::default()).await?)
}

pub fn migrate(args: &DbArgs) -> anyhow::Result<()> {
    block_on(async {
        let backend = Store::migrate(&args.db).await?;
        println!("the {} schema is up to date", backend.name());
        Ok(())
    })
}

pub fn create_tenant(name: &str, db: &DbArgs) -> anyhow::Result<()> {
    block_on(async {
        let store = open(db).await?;
        store.create_tenant(name).await?;
        println!("tenant `{name}` created; its ledger starts empty");
        store.close().await;
        Ok(())
    })
}

pub fn create_key(
    tenant: &str,
    role: &str,
    holder: Option<&str>,
    db: &DbArgs,
) -> anyhow::Result<()> {
    let role = Role::parse(role)?;
    block_on(async {
        let store = open(db).await?;
        let key = store.create_key_held(tenant, role, holder).await?;
        println!(
            "key {} for `{}` as {}{}; keep it now, it is not shown again:",
            key.id,
            key.tenant,
            key.role.as_str(),
            key.holder
                .as_deref()
                .map(|h| format!(", held by {h}"))
                .unwrap_or_default()
        );
        println!("{}", key.secret);
        store.close().await;
        Ok(())
    })
}

pub fn revoke_key(id: &str, db: &DbArgs) -> anyhow::Result<()> {
    block_on(async {
        let store = open(db).await?;
        let revoked = store.revoke_key(id).await?;
        store.close().await;
        anyhow::ensure!(revoked, "no live key has the id `{id}`");
        println!("key {id} revoked");
        Ok(())
    })
}
