# The CGM time-in-range quarterly reward's explanation lines, in English (the package's default
# locale): one message per reason(…) in rules.rhai, with the plan's name and its tiers. The
# engine's own lines (the caps, what a member is shown) come from the engine's catalog.
#
# Percentages ($active, $tir, $tbr, $cv, $tbr_level2) and days worn ($worn) come as the script
# chose to show them (one decimal, or in full where one decimal would land on a threshold the
# figure is not on), so they are written as they are; $reward and $bonus are amounts in CNY.

policy-name = CGM time-in-range quarterly reward

## Tiers, as the member's status shows them.

tier-gold = gold
tier-silver = silver
tier-bronze = bronze

## Whether there is enough sensor data to judge the quarter.

no-sensor-readings = there are no sensor readings in { $period }, so there is nothing to judge
single-sensor-reading = there is only one sensor reading in { $period }; the plan needs at least { $min_wear_days } days of continuous monitoring
not-a-sensor-trace = the { $readings } readings in { $period } are typically { $interval_minutes } minutes apart, which is not a continuous glucose monitor's trace; the plan judges sensor data only
not-enough-data = the sensor was worn for { $worn } { $worn ->
        [one] day
       *[other] days
    } in { $period } with { $active }% of its readings present; the plan needs at least { $min_wear_days } days with at least { $min_active_percent }% present to judge a quarter
enough-data = the sensor was worn for { $worn } { $worn ->
        [one] day
       *[other] days
    } in { $period } with { $active }% of its readings present: enough data to judge the quarter

## The safety flag.

level2-hypoglycaemia-review = glucose was below 54 mg/dL for { $tbr_level2 }% of the time (the target is under { $review_at }%): a clinician will review your hypoglycaemia

## The tier. Each tier's line begins with the quarter's figures; the script passes
## cv_measured: false, and no cv, when the trace has no two glucose numbers to measure CV on.

quarter-figures = time in range (70–180 mg/dL) was { $tir }%, time below 70 mg/dL { $tbr }% and glucose variability (CV) { $cv_measured ->
        [true] { $cv }%
       *[other] not measurable
    }
gold-target-met = { quarter-figures }: gold, the consensus target for most adults (time in range above { $gold_tir_above }%, below range under { $tbr_below }%, CV at most { $gold_cv_at_most }%)
silver-target-met = { quarter-figures }: silver, the consensus target for older or high-risk adults (time in range above { $silver_tir_above }%, below range under { $tbr_below }%); gold also needs time in range above { $gold_tir_above }% and CV at most { $gold_cv_at_most }%
below-targets-bronze = { quarter-figures }: below the consensus targets (time in range above { $silver_tir_above }% with time below range under { $tbr_below }%); bronze, for wearing the sensor enough to be judged

## What the quarter pays.

reward-for-tier = the { $tier ->
        [gold] { tier-gold }
        [silver] { tier-silver }
       *[bronze] { tier-bronze }
    } tier pays { MONEY($reward) } for the quarter
continuity-bonus = you also met a target last quarter: a { MONEY($bonus) } continuity bonus
