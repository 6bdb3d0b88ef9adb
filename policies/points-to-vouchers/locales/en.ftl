# English text of the explanation lines rules.rhai gives (its `reason("id", …)` calls), and the
# plan's name as members see it. The engine's own lines (the whole-voucher rule, caps, the
# member view's labels) come from the engine's catalog unless a message of the same id is
# given here.
#
# MONEY($value) writes a voucher's value in the plan's currency; $share is the month's share of
# fasting readings in target, already rounded to one decimal by the script.

policy-name = Points for vouchers

measuring-days = { $days } { $days ->
        [one] day
       *[other] days
    } with a reading: { $points } { $points ->
        [one] point
       *[other] points
    }

fasting-control = { PERCENT($share) } of fasting readings in 4.4–7.0 mmol/L: { $points } points more

severe-hypo-review = a reading was below { $below } mg/dL: a clinician will review your low glucose

vouchers-bought = { $points } points buy { $vouchers } voucher(s) of { MONEY($value) }
