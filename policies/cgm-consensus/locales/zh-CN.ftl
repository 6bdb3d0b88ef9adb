# 持续葡萄糖监测（CGM）季度达标奖励的说明（简体中文）：rules.rhai 中每个 reason(…) 对应一条
# 消息，另有计划名称和等级名称。引擎自身的说明（上限、会员看到的标签）来自引擎的目录。
#
# 百分比（$active、$tir、$tbr、$cv、$tbr_level2）和佩戴天数（$worn）按规则脚本给出的数值显示
# （一位小数；若四舍五入后恰好落在阈值上而实际并未达到，则显示完整数值）；$reward 和 $bonus
# 为人民币金额。血糖阈值按国际共识换算为 mmol/L：70 mg/dL 即 3.9 mmol/L，180 mg/dL 即
# 10.0 mmol/L，54 mg/dL 即 3.0 mmol/L。

policy-name = 持续葡萄糖监测（CGM）季度达标奖励

## 等级，显示在会员的“等级”一栏。

tier-gold = 金级
tier-silver = 银级
tier-bronze = 铜级

## 传感器数据是否足以评定本季度。

no-sensor-readings = 本季度（{ $period }）没有传感器读数，无法评定
single-sensor-reading = 本季度（{ $period }）只有一条传感器读数；本计划需要至少 { $min_wear_days } 天的连续监测数据
not-a-sensor-trace = 本季度（{ $period }）的 { $readings } 条读数通常间隔 { $interval_minutes } 分钟，不是持续葡萄糖监测（CGM）的数据；本计划只评定传感器数据
not-enough-data = 本季度（{ $period }）传感器佩戴 { $worn } 天，读数完整率 { $active }%；本计划需要至少佩戴 { $min_wear_days } 天、读数完整率不低于 { $min_active_percent }%，才能评定一个季度
enough-data = 本季度（{ $period }）传感器佩戴 { $worn } 天，读数完整率 { $active }%：数据足以评定本季度

## 安全提示。

level2-hypoglycaemia-review = 血糖低于 3.0 mmol/L 的时间占 { $tbr_level2 }%（目标为低于 { $review_at }%）：临床医生将评估您的低血糖情况

## 等级评定。每个等级的说明都以本季度的各项指标开头；若数据中没有两个可用的血糖数值，
## 无法计算变异系数，脚本会传入 cv_measured: false，且不传 cv。

quarter-figures = 血糖在目标范围（3.9–10.0 mmol/L）内的时间占 { $tir }%，低于 3.9 mmol/L 的时间占 { $tbr }%，血糖变异系数（CV）{ $cv_measured ->
        [true] 为 { $cv }%
       *[other] 无法计算
    }
gold-target-met = { quarter-figures }：达到金级，即国际共识中大多数成年人的控制目标（目标范围内时间高于 { $gold_tir_above }%，低于目标范围的时间少于 { $tbr_below }%，CV 不超过 { $gold_cv_at_most }%）
silver-target-met = { quarter-figures }：达到银级，即国际共识中老年或高风险成年人的控制目标（目标范围内时间高于 { $silver_tir_above }%，低于目标范围的时间少于 { $tbr_below }%）；金级还要求目标范围内时间高于 { $gold_tir_above }%，且 CV 不超过 { $gold_cv_at_most }%
below-targets-bronze = { quarter-figures }：未达到国际共识的控制目标（目标范围内时间高于 { $silver_tir_above }%，且低于目标范围的时间少于 { $tbr_below }%）；评为铜级，奖励您坚持佩戴传感器，使数据足以评定

## 本季度的奖励。

reward-for-tier = 本季度{ $tier ->
        [gold] { tier-gold }
        [silver] { tier-silver }
       *[bronze] { tier-bronze }
    }奖励为 { MONEY($reward) }
continuity-bonus = 您上季度也达到了控制目标：另获连续达标奖励 { MONEY($bonus) }
