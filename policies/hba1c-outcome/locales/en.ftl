# The HbA1c outcome refund's explanation lines, in English (the package's default locale): one
# message per reason(…) in rules.rhai, with the plan's name. The engine's own lines (caps, the
# pool, what a member is shown) come from the engine's catalog.
#
# HbA1c figures ($worst, $latest, $earliest, $target, $exclusion) and changes in points ($fall,
# $rise, $min_fall) are written as stored, one decimal as the lab reports them; $premium is an
# amount in the plan's currency.

policy-name = HbA1c outcome refund

## The safety flag: written whether or not a refund is possible.

care-management-referral = an HbA1c of { $worst }% in the { $lookback_days } days to the end of { $year } is at or above { $exclusion }%: the plan refers you to care management

## Eligibility.

no-age-on-file = we have no age on file for you; the plan is open to members aged { $age_min } to { $age_max }
age-outside-band = you were { $age } at the start of { $year }; the plan is open to members aged { $age_min } to { $age_max }
no-enrolment-date = we have no enrolment date on file for you; the plan needs members enrolled at least { $min_days } days before { $year } begins
enrolled-during-year = you enrolled on { $enrolled_on }, during { $year }; the plan counts members enrolled at least { $min_days } days before the year begins
enrolled-too-recently = you enrolled on { $enrolled_on }, { $days } { $days ->
        [one] day
       *[other] days
    } before { $year } began; the plan needs at least { $min_days } days
care-management-instead-of-refund = with an HbA1c of { $exclusion }% or more in the look-back, care management takes the place of a refund

## The outcome.

no-hba1c-result = there is no HbA1c result in the { $lookback_days } days to the end of { $year }, so there is nothing to judge
below-target-refund = your latest HbA1c, { $latest }%, is below { $target }%: one month's premium ({ MONEY($premium) }) back
not-below-one-result = your latest HbA1c, { $latest }%, is not below { $target }%, and with one result in the { $lookback_days } days to the end of { $year } there is no change to measure (a fall of { $min_fall } points would also pay)
not-below-fell-enough-refund = your latest HbA1c, { $latest }%, is not below { $target }%, but it fell { $fall } points over the year, from { $earliest }%, at least the { $min_fall } the plan asks: one month's premium ({ MONEY($premium) }) back
not-below-fell-too-little = your latest HbA1c, { $latest }%, is not below { $target }%, and it fell only { $fall } points over the year, from { $earliest }%; a fall of at least { $min_fall } points would pay
not-below-rose = your latest HbA1c, { $latest }%, is not below { $target }%, and it rose { $rise } points over the year, from { $earliest }%; a fall of at least { $min_fall } points would pay
not-below-unchanged = your latest HbA1c, { $latest }%, is not below { $target }%, and it did not change over the year, from { $earliest }%; a fall of at least { $min_fall } points would pay
