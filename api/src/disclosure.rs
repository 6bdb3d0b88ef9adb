//! Which roles may see which kinds of data, held by types. Every keyed route returns
//! [`Shown<A, T>`]: the access `A` it was called with and a body `T` that names the data
//! classes it carries ([`Discloses`]). A route whose body carries a class one of `A`'s roles may
//! not see does not compile — the check is a constant evaluated when the handler is built — so
//! a new route cannot leak readings to an author by mistake. The same two facts are written
//! into the OpenAPI document (`x-roles`, `x-data-classes` on every keyed operation), from which
//! the tests are generated, and [`TABLE`] is rendered into docs/security.md.

use crate::auth::{Access, Allowed};
use crate::error::ApiError;
use axum::response::{IntoResponse, Response};
use incentive_store::tenants::Role;
use std::marker::PhantomData;

/// A kind of data an answer may carry, by how sensitive it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DataClass {
    /// Glucose readings, and rejections that quote them.
    Readings,
    /// HbA1c and other lab results.
    Labs,
    /// Age, sex, region, diabetes type, insulin use, enrolment date.
    MemberAttributes,
    /// Glucose-control metrics of one member (TIR, mean, GMI …).
    Metrics,
    /// Decisions on real members, with their explanations.
    Decisions,
    /// Ledger entries and postings, balances by account (members' included).
    LedgerPostings,
    /// Figures over many members: simulation and backtest totals, distributions, counts.
    Aggregates,
    /// Member-level rows under a pseudonym (a keyed hash per tenant), never a member id.
    PseudonymousRows,
    /// Figures and rows about synthetic members (simulations): no one's health.
    Simulated,
    /// Policy packages, versions and diagnostics.
    Policies,
    /// Decisions on input the caller supplied (a case, a trial record): no member's stored data.
    TrialDecisions,
    /// Ids, counts and statuses that say nothing of anyone's health.
    Operational,
}

impl DataClass {
    pub const ALL: [DataClass; 12] = [
        Self::Readings,
        Self::Labs,
        Self::MemberAttributes,
        Self::Metrics,
        Self::Decisions,
        Self::LedgerPostings,
        Self::Aggregates,
        Self::PseudonymousRows,
        Self::Simulated,
        Self::Policies,
        Self::TrialDecisions,
        Self::Operational,
    ];

    /// The name the OpenAPI document and docs/security.md use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Readings => "readings",
            Self::Labs => "labs",
            Self::MemberAttributes => "member_attributes",
            Self::Metrics => "metrics",
            Self::Decisions => "decisions",
            Self::LedgerPostings => "ledger_postings",
            Self::Aggregates => "aggregates",
            Self::PseudonymousRows => "pseudonymous_rows",
            Self::Simulated => "simulated",
            Self::Policies => "policies",
            Self::TrialDecisions => "trial_decisions",
            Self::Operational => "operational",
        }
    }
}

/// The rule, role by role: a role sees a class only where its job needs it. The platform sent
/// the members' data and pays them; an author writes policies and tries them on records it
/// makes up; an actuary prices plans from totals and pseudonymous rows; an auditor checks what
/// was paid and why. Health data (readings, labs, attributes, one member's metrics) reaches
/// no role but the platform's, the auditor's (metrics behind a decision) and the admin's.
pub const TABLE: [(DataClass, &[Role]); 12] = {
    use DataClass as C;
    use Role::{Actuary, Admin, Auditor, Author, Platform};
    [
        (C::Readings, &[Platform, Admin]),
        (C::Labs, &[Platform, Admin]),
        (C::MemberAttributes, &[Platform, Admin]),
        (C::Metrics, &[Platform, Auditor, Admin]),
        (C::Decisions, &[Platform, Auditor, Admin]),
        (C::LedgerPostings, &[Auditor, Admin]),
        (C::Aggregates, &[Author, Actuary, Auditor, Admin]),
        (C::PseudonymousRows, &[Actuary, Admin]),
        (C::Simulated, &[Author, Actuary, Admin]),
        (C::Policies, &[Author, Actuary, Auditor, Admin]),
        (C::TrialDecisions, &[Platform, Author, Actuary, Admin]),
        (C::Operational, &[Platform, Author, Actuary, Auditor, Admin]),
    ]
};

/// Whether `role` may see `class`, by [`TABLE`]. (Written with `split_first` so that it runs
/// in a constant, where the rule is checked.)
pub const fn may_see(role: Role, class: DataClass) -> bool {
    let mut rows: &[(DataClass, &[Role])] = &TABLE;
    while let Some(((c, roles), rest)) = rows.split_first() {
        if *c as usize == class as usize {
            return contains(roles, role);
        }
        rows = rest;
    }
    false
}

const fn contains(mut roles: &[Role], role: Role) -> bool {
    while let Some((r, rest)) = roles.split_first() {
        if *r as usize == role as usize {
            return true;
        }
        roles = rest;
    }
    false
}

/// Whether every one of `roles` may see every one of `classes`.
pub const fn all_may_see(mut roles: &[Role], classes: &[DataClass]) -> bool {
    while let Some((role, rest)) = roles.split_first() {
        let mut left = classes;
        while let Some((class, more)) = left.split_first() {
            if !may_see(*role, *class) {
                return false;
            }
            left = more;
        }
        roles = rest;
    }
    true
}

/// A body that says which data classes it carries.
pub trait Discloses {
    const CLASSES: &'static [DataClass];
}

impl<T: Discloses> Discloses for axum::Json<T> {
    const CLASSES: &'static [DataClass] = T::CLASSES;
}

impl<T: Discloses> Discloses for Vec<T> {
    const CLASSES: &'static [DataClass] = T::CLASSES;
}

impl<T: Discloses> Discloses for (axum::http::StatusCode, T) {
    const CLASSES: &'static [DataClass] = T::CLASSES;
}

/// A response built by hand (bytes already serialised, another content type) that carries a
/// `T`: it discloses what `T` does.
#[derive(Debug)]
pub struct Answered<T>(Response, PhantomData<T>);

impl<T> Answered<T> {
    pub fn new(response: Response) -> Self {
        Self(response, PhantomData)
    }
}

impl<T: Discloses> Discloses for Answered<T> {
    const CLASSES: &'static [DataClass] = T::CLASSES;
}

impl<T> IntoResponse for Answered<T> {
    fn into_response(self) -> Response {
        self.0
    }
}

/// Declares the classes of bodies defined elsewhere (in the store, or plain JSON values).
#[macro_export]
macro_rules! discloses {
    ($($ty:ty => [$($class:ident),*];)*) => {$(
        impl $crate::disclosure::Discloses for $ty {
            const CLASSES: &'static [$crate::disclosure::DataClass] =
                &[$($crate::disclosure::DataClass::$class),*];
        }
    )*};
}

/// An answer to a caller allowed `A`, carrying `T`. Built only by [`Allowed::show`], which is
/// where the rule is checked. A route that may be called by roles that read policies cannot
/// answer with a decision on a member:
///
/// ```compile_fail,E0080
/// use incentive_api::auth::{Allowed, ReadPolicies};
/// use incentive_api::disclosure::Shown;
/// use incentive_api::routes::payouts::DecisionView;
///
/// fn leak(caller: Allowed<ReadPolicies>, d: DecisionView) -> Shown<ReadPolicies, axum::Json<DecisionView>> {
///     caller.show(axum::Json(d))
/// }
/// // The check runs where the handler is built, as a router builds it.
/// let _handler: fn(_, _) -> _ = leak;
/// ```
///
/// while the same decision to the roles that read decisions compiles:
///
/// ```
/// use incentive_api::auth::{Allowed, ReadDecisions};
/// use incentive_api::disclosure::Shown;
/// use incentive_api::routes::payouts::DecisionView;
///
/// fn answer(caller: Allowed<ReadDecisions>, d: DecisionView) -> Shown<ReadDecisions, axum::Json<DecisionView>> {
///     caller.show(axum::Json(d))
/// }
/// let _handler: fn(_, _) -> _ = answer;
/// ```
#[derive(Debug)]
pub struct Shown<A, T>(T, PhantomData<A>);

/// The check, as a constant of the pair: evaluating it for a pair that breaks the rule stops
/// the build.
struct Rule<A, T>(PhantomData<(A, T)>);

impl<A: Access, T: Discloses> Rule<A, T> {
    const HOLDS: () = assert!(
        all_may_see(A::ROLES, T::CLASSES),
        "a route returns a data class that one of its roles may not see: see disclosure::TABLE and docs/security.md"
    );
}

impl<A: Access> Allowed<A> {
    /// The answer `body`, to this caller: compiles only if every role allowed `A` may see
    /// every class `body` carries.
    pub fn show<T: Discloses>(&self, body: T) -> Shown<A, T> {
        let () = Rule::<A, T>::HOLDS;
        Shown(body, PhantomData)
    }
}

impl<A: Access, T: Discloses + IntoResponse> IntoResponse for Shown<A, T> {
    fn into_response(self) -> Response {
        let () = Rule::<A, T>::HOLDS;
        self.0.into_response()
    }
}

/// What a handler discloses, read from its signature: the roles of its access and the classes
/// of its answer. Implemented for every `async fn(…) -> Result<Shown<A, T>, ApiError>`, as
/// axum implements `Handler`, so the OpenAPI document is written from the handler itself.
pub trait Disclosure<Args> {
    const ROLES: &'static [Role];
    const CLASSES: &'static [DataClass];
}

macro_rules! disclosure_for_arity {
    ($($arg:ident),*) => {
        impl<F, Fut, A, T, $($arg,)*> Disclosure<($($arg,)*)> for F
        where
            F: FnOnce($($arg,)*) -> Fut,
            Fut: std::future::Future<Output = Result<Shown<A, T>, ApiError>>,
            A: Access,
            T: Discloses,
        {
            const ROLES: &'static [Role] = A::ROLES;
            const CLASSES: &'static [DataClass] = T::CLASSES;
        }
    };
}

disclosure_for_arity!(X1);
disclosure_for_arity!(X1, X2);
disclosure_for_arity!(X1, X2, X3);
disclosure_for_arity!(X1, X2, X3, X4);
disclosure_for_arity!(X1, X2, X3, X4, X5);
disclosure_for_arity!(X1, X2, X3, X4, X5, X6);

/// `routes` (one handler's, from `utoipa_axum::routes!`) with the handler's roles and data
/// classes written into each of its operations as `x-roles` and `x-data-classes`.
pub fn described<Args, H: Disclosure<Args>, S>(
    routes: utoipa_axum::router::UtoipaMethodRouter<S>,
    _handler: H,
) -> utoipa_axum::router::UtoipaMethodRouter<S> {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    let (schemas, mut paths, router) = routes;
    let roles: Vec<&str> = H::ROLES.iter().map(|r| r.as_str()).collect();
    let classes: Vec<&str> = H::CLASSES.iter().map(|c| c.as_str()).collect();
    for item in paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let extensions = ExtensionsBuilder::new()
                .add("x-roles", serde_json::json!(roles))
                .add("x-data-classes", serde_json::json!(classes))
                .build();
            op.extensions
                .get_or_insert_with(Default::default)
                .merge(extensions);
        }
    }
    (schemas, paths, router)
}

/// [`TABLE`] as the Markdown table docs/security.md carries (a test holds the two equal).
pub fn markdown_table() -> String {
    let mut out = String::from("| data class |");
    for role in Role::ALL {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n| --- |");
    for _ in Role::ALL {
        out.push_str(" :-: |");
    }
    out.push('\n');
    for class in DataClass::ALL {
        out.push_str(&format!("| `{}` |", class.as_str()));
        for role in Role::ALL {
            out.push_str(if may_see(role, class) {
                " ✓ |"
            } else {
                "   |"
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_one_row_in_the_table() {
        for class in DataClass::ALL {
            assert_eq!(
                TABLE.iter().filter(|(c, _)| *c == class).count(),
                1,
                "{class:?}"
            );
        }
    }

    #[test]
    fn health_data_reaches_neither_authors_nor_actuaries() {
        for class in [
            DataClass::Readings,
            DataClass::Labs,
            DataClass::MemberAttributes,
            DataClass::Metrics,
            DataClass::Decisions,
            DataClass::LedgerPostings,
        ] {
            for role in [Role::Author, Role::Actuary] {
                assert!(!may_see(role, class), "{role:?} {class:?}");
            }
        }
        assert!(may_see(Role::Actuary, DataClass::PseudonymousRows));
        assert!(!may_see(Role::Author, DataClass::PseudonymousRows));
        assert!(all_may_see(
            &[Role::Author, Role::Actuary],
            &[DataClass::TrialDecisions, DataClass::Policies]
        ));
        assert!(!all_may_see(
            &[Role::Platform, Role::Actuary],
            &[DataClass::Decisions]
        ));
    }
}
