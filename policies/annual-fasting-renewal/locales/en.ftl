# English text of the explanation lines rules.rhai gives (its `reason("id", …)` calls), and the
# plan's name as members see it. The engine's own lines (caps, premium bounds, the member
# view's labels) come from the engine's catalog unless a message of the same id is given here.
#
# A "controlled" month had at least $min_readings fasting readings and at least $share % of
# them in 4.4–7.0 mmol/L; "points" are percentage points off next year's premium.

policy-name = Renewal discount for a year of fasting control

controlled-months = { $controlled } of the 12 months of { $period } had at least { PERCENT($share) } of their fasting readings in 4.4–7.0 mmol/L ({ $judged } { $judged ->
        [one] month
       *[other] months
    } had the { $min_readings } fasting readings needed to be judged)

full-discount = { $months } or more controlled months: { $points } { $points ->
        [one] point
       *[other] points
    } off next year's premium

partial-discount = { $from } to { $to } controlled months: { $points } { $points ->
        [one] point
       *[other] points
    } off next year's premium

premium-unchanged = fewer than { $months } controlled months: next year's premium is unchanged
