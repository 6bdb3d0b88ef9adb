# rules.rhai 各条说明（`reason("id", …)`）的简体中文文本，以及会员看到的计划名称和评定结果名称。
# 引擎自身的说明（上限、会员页面标签）取自引擎的中文目录，除非此处以相同 id 另行给出。
#
# 目标范围内时间（TIR）为传感器读数落在 70～180 mg/dL 的比例。$tir、$earlier、$gain、$active 和
# $wear_days 已由脚本保留一位小数，按原样写出；$gain 与 $needed 为百分点。$period 和 $before 为
# 计划对季度的写法（如 2026-Q2）。$amount 为奖励金额（MONEY 按计划币种写出）。

policy-name = 动态血糖目标范围内时间（TIR）季度奖励：达标或进步

tier-target = 达到目标
tier-improved = 较上季度进步
tier-none = 未达到目标或进步要求

no-sensor-trace = 本季度（{ $period }）没有可供评估的动态血糖监测数据

too-little-sensor-data = 传感器佩戴 { $wear_days } 天，有效读数占应有读数的 { $active }%；本计划评估一个季度需要至少佩戴 { $min_days } 天，且有效读数不低于 { $min_active }%

tir-above-target = 目标范围内时间（TIR）为 { $tir }%，超过 { $target }% 的目标：获得达标奖励 { MONEY($amount) }

tir-nothing-to-compare = 目标范围内时间（TIR）为 { $tir }%，未超过 { $target }% 的目标，且没有上一季度的 TIR 可供比较

tir-improved = 目标范围内时间（TIR）为 { $tir }%，比上一季度（{ $before }）的 { $earlier }% 提高了 { $gain } 个百分点：达到提高不少于 { $needed } 个百分点的要求，获得进步奖励 { MONEY($amount) }

tir-not-improved = 目标范围内时间（TIR）为 { $tir }%，上一季度（{ $before }）为 { $earlier }%：未超过 { $target }% 的目标，较上一季度的提高也不足 { $needed } 个百分点

streak-bonus = 本季度之前已连续 { $quarters } 个季度获得奖励：另加连续奖励 { MONEY($amount) }
