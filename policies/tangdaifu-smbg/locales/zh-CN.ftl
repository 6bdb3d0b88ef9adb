# 糖大夫月度控糖返还（tangdaifu-smbg）向会员说明的内容：rules.rhai 给出的每条原因对应一条消息。

policy-name = 糖大夫月度控糖保费返还
clinician-follow-up = 您已连续 { $days } 天所有血糖读数均高于 13.9 mmol/L，医生将与您联系跟进
measuring-gate-not-met = 本月您在 { $days } 天内测量了 { $readings } 次；本计划要求在 { $days_needed } 个不同日期测量至少 { $readings_needed } 次
measuring-gate-met = 本月您在 { $days } 天内测量了 { $readings } 次，已达到测量要求
too-few-fasting-readings = 本月仅有 { $fasting } 次空腹读数，至少需要 { $needed } 次才能评估控糖情况
fasting-share = { $fasting } 次空腹读数中有 { PERCENT($share) } 在 4.4–7.0 mmol/L 目标范围内：返还 { MONEY($premium) } 月保费的 { $rebate }%
