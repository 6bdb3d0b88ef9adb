# 糖化血红蛋白达标保费返还计划的说明（简体中文）：rules.rhai 中每个 reason(…) 对应一条消息，
# 另有计划名称。引擎自身的说明（上限、奖励池、会员看到的标签）来自引擎的目录。
#
# 糖化血红蛋白数值（$worst、$latest、$earliest、$target、$exclusion）与变化的百分点
# （$fall、$rise、$min_fall）按原值显示，即化验单上的一位小数；$premium 为计划币种的金额。

policy-name = 糖化血红蛋白达标保费返还

## 安全提示：无论能否返还都会显示。

care-management-referral = 截至 { $year } 年底的 { $lookback_days } 天内，您有一次糖化血红蛋白（HbA1c）结果为 { $worst }%，达到或高于 { $exclusion }%：本计划将为您转介慢病管理服务

## 参加资格。

no-age-on-file = 系统中没有您的年龄信息；本计划面向 { $age_min } 至 { $age_max } 岁的会员
age-outside-band = 您在 { $year } 年初为 { $age } 岁；本计划面向 { $age_min } 至 { $age_max } 岁的会员
no-enrolment-date = 系统中没有您的投保日期；本计划要求会员在 { $year } 年度开始前至少 { $min_days } 天投保
enrolled-during-year = 您的投保日期为 { $enrolled_on }，在 { $year } 年度之内；本计划仅适用于在年度开始前至少 { $min_days } 天投保的会员
enrolled-too-recently = 您的投保日期为 { $enrolled_on }，距 { $year } 年度开始仅 { $days } 天；本计划要求至少 { $min_days } 天
care-management-instead-of-refund = 由于回顾期内有糖化血红蛋白达到或高于 { $exclusion }% 的结果，本计划将以慢病管理服务代替保费返还

## 评定结果。

no-hba1c-result = 截至 { $year } 年底的 { $lookback_days } 天内没有您的糖化血红蛋白（HbA1c）检测结果，因此无法评定
below-target-refund = 您最近一次糖化血红蛋白（HbA1c）为 { $latest }%，低于 { $target }%：返还一个月保费（{ MONEY($premium) }）
not-below-one-result = 您最近一次糖化血红蛋白（HbA1c）为 { $latest }%，未低于 { $target }%；截至 { $year } 年底的 { $lookback_days } 天内仅有一次检测结果，无法计算变化（下降 { $min_fall } 个百分点同样可获返还）
not-below-fell-enough-refund = 您最近一次糖化血红蛋白（HbA1c）为 { $latest }%，未低于 { $target }%，但本年度已从 { $earliest }% 下降 { $fall } 个百分点，达到本计划要求的 { $min_fall } 个百分点：返还一个月保费（{ MONEY($premium) }）
not-below-fell-too-little = 您最近一次糖化血红蛋白（HbA1c）为 { $latest }%，未低于 { $target }%；本年度从 { $earliest }% 仅下降 { $fall } 个百分点，下降至少 { $min_fall } 个百分点方可获得返还
not-below-rose = 您最近一次糖化血红蛋白（HbA1c）为 { $latest }%，未低于 { $target }%；本年度从 { $earliest }% 上升了 { $rise } 个百分点，下降至少 { $min_fall } 个百分点方可获得返还
not-below-unchanged = 您最近一次糖化血红蛋白（HbA1c）为 { $latest }%，未低于 { $target }%；与本年度最早一次结果（{ $earliest }%）相比没有变化，下降至少 { $min_fall } 个百分点方可获得返还
