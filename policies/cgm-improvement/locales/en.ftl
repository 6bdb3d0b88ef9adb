# English text of the explanation lines rules.rhai gives (its `reason("id", …)` calls), the
# plan's name and its outcomes as members see them. The engine's own lines (the cap, the member
# view's labels) come from the engine's catalog unless a message of the same id is given here.
#
# Time in range is the share of sensor readings in 70–180 mg/dL. $tir, $earlier, $gain,
# $active and $wear_days are rounded to one decimal by the script and written as given; $gain
# and $needed are percentage points. $period and $before are quarters as the plan names them
# (2026-Q2). $amount is in the plan's currency (MONEY).

policy-name = CGM time-in-range: target or improvement, quarterly

tier-target = target met
tier-improved = improved
tier-none = neither target nor improvement

no-sensor-trace = there is no sensor trace in { $period } to judge

too-little-sensor-data = the sensor was worn for { $wear_days } { $wear_days ->
        [one] day
       *[other] days
    } with { $active }% of its readings present; the plan needs at least { $min_days } days with { $min_active }% to judge a quarter

tir-above-target = time in range was { $tir }%, above the { $target }% target: { MONEY($amount) }

tir-nothing-to-compare = time in range was { $tir }%, not above the { $target }% target, and there is no time in range for the quarter before to compare with

tir-improved = time in range was { $tir }%, up { $gain } { $gain ->
        [one] point
       *[other] points
    } on { $before }'s { $earlier }%: { MONEY($amount) } for improving by at least { $needed } { $needed ->
        [one] point
       *[other] points
    }

tir-not-improved = time in range was { $tir }% against { $earlier }% in { $before }: not above the { $target }% target, and not up by { $needed } { $needed ->
        [one] point
       *[other] points
    }

streak-bonus = { $quarters } qualified { $quarters ->
        [one] quarter
       *[other] quarters
    } in a row before this one: { MONEY($amount) } more
