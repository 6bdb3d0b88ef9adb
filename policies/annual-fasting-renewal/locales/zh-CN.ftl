# rules.rhai 各条说明（`reason("id", …)`）的简体中文文本，以及会员看到的计划名称。
# 引擎自身的说明（上限、保费限制、会员页面标签）取自引擎的中文目录，除非此处以相同 id 另行给出。
#
# “达标”的月份：当月空腹测量不少于 $min_readings 次，且至少 $share 的空腹读数在 4.4～7.0 mmol/L；
# $points 为明年续保保费下调的百分点。

policy-name = 全年空腹血糖控制续保优惠

controlled-months = { $period } 年 12 个月中，有 { $controlled } 个月空腹血糖达标（当月至少 { PERCENT($share) } 的空腹读数在 4.4～7.0 mmol/L）；空腹测量满 { $min_readings } 次的月份方可评估，共 { $judged } 个月

full-discount = 达标月份不少于 { $months } 个月：明年续保保费下调 { $points }%

partial-discount = 达标月份为 { $from }～{ $to } 个月：明年续保保费下调 { $points }%

premium-unchanged = 达标月份少于 { $months } 个月：明年续保保费不变
