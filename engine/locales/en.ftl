# The engine's own lines, in English: what each cap, rounding and premium bound did, and the
# labels of what a member is shown. A package may give its own wording for any of them in its
# locales/<tag>.ftl (same id); its own messages are the script's reasons.
#
# MONEY($x) writes an amount in the plan's currency, in this locale's style, at the plan's
# minor unit (more digits only where the amount has them); NUMBER($x, maximumFractionDigits: 1)
# and PERCENT($x) write numbers with this locale's separators.

## Steps the engine took (shown to members).

engine-capped-period = capped at { MONEY($paid) }: the plan pays at most { MONEY($cap) } a period (the rules gave { MONEY($given) })
engine-capped-year = capped at { MONEY($paid) }: the plan pays at most { MONEY($cap) } a year and { MONEY($earlier) } was paid earlier this year (the rules gave { MONEY($given) })
engine-capped-policy-year = capped at { MONEY($paid) }: the plan pays at most { MONEY($cap) } a policy year (from the member's enrolment anniversary) and { MONEY($earlier) } was paid earlier this policy year (the rules gave { MONEY($given) })
engine-refused-year = refused: the plan pays at most { MONEY($cap) } a year and { MONEY($earlier) } was paid earlier this year, less than the { MONEY($given) } the rules gave, and the plan pays nothing rather than part
engine-refused-policy-year = refused: the plan pays at most { MONEY($cap) } a policy year (from the member's enrolment anniversary) and { MONEY($earlier) } was paid earlier this policy year, less than the { MONEY($given) } the rules gave, and the plan pays nothing rather than part
engine-capped-group = capped at { MONEY($paid) }: the plan pays your family or group at most { MONEY($cap) } a year together and { MONEY($earlier) } was paid to it earlier this year (the rules gave { MONEY($given) })
engine-refused-group = refused: the plan pays your family or group at most { MONEY($cap) } a year together and { MONEY($earlier) } was paid to it earlier this year, less than the { MONEY($given) } the rules gave, and the plan pays nothing rather than part
engine-capped-pool = capped at { MONEY($paid) }: the pool of { MONEY($pool) } has { MONEY($left) } left (the rules gave { MONEY($given) })
engine-refused-pool = refused: the pool of { MONEY($pool) } has { MONEY($left) } left, less than the { MONEY($given) } the rules gave, and the plan pays nothing rather than part
engine-whole-units = { MONEY($paid) } paid: rewards are paid in whole units of { MONEY($unit) }, and the { MONEY($left) } the caps left is not a whole number of them
engine-premium-limited = premium adjustment limited to { $limit }% per period (the rules gave { $given }%)
engine-loading-floor = premium loading kept at or above its floor of { $floor }% (loading { $loading }%, adjustment { $given }% → { $adjusted }%)
engine-loading-cap = premium loading kept at or below its cap of { $cap }% (loading { $loading }%, adjustment { $given }% → { $adjusted }%)

## Steps shown to staff only: a fraction of a minor unit is nobody's reason.

engine-rounded = rounded { $given } { $currency } to { MONEY($paid) } ({ $mode } to { $unit })
engine-premium-rounded = premium adjustment rounded from { $given }% to { $adjusted }%

## What a member is shown.

member-reward = reward: { MONEY($reward) }
member-premium-change = premium change: { $change }%
member-status = status: { $status }
member-points = points: { $points }
member-why = why:
