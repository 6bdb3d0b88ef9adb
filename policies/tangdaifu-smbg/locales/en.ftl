# What tangdaifu-smbg tells a member, in English: one message per reason rules.rhai gives.
# The engine's own lines (caps, rounding) come from the engine unless given here.

policy-name = 糖大夫 monthly glucose-control rebate
clinician-follow-up = every reading was above 13.9 mmol/L on { $days } days running: a clinician will follow up
measuring-gate-not-met = measured { $readings } times on { $days } days; the plan asks for { $readings_needed } times on { $days_needed } different days
measuring-gate-met = measured { $readings } times on { $days } days: the measuring target is met
too-few-fasting-readings = { $fasting } fasting readings; at least { $needed } are needed to judge control
fasting-share = { PERCENT($share) } of { $fasting } fasting readings were in 4.4–7.0 mmol/L: { $rebate }% of the { MONEY($premium) } premium back
