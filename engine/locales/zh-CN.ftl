# 引擎自身的说明（简体中文）：每项上限、舍入和保费限制做了什么，以及会员看到的各项标签。
# 产品包可在 locales/<tag>.ftl 中以相同 id 改写其中任何一条。

## 引擎所做的调整（会员可见）。

engine-capped-period = 按上限支付 { MONEY($paid) }：本计划每期最多支付 { MONEY($cap) }（规则计算为 { MONEY($given) }）
engine-capped-year = 按上限支付 { MONEY($paid) }：本计划每年最多支付 { MONEY($cap) }，今年此前已支付 { MONEY($earlier) }（规则计算为 { MONEY($given) }）
engine-capped-policy-year = 按上限支付 { MONEY($paid) }：本计划每保单年度（自入保周年日起算）最多支付 { MONEY($cap) }，本保单年度此前已支付 { MONEY($earlier) }（规则计算为 { MONEY($given) }）
engine-refused-year = 本期不支付：本计划每年最多支付 { MONEY($cap) }，今年此前已支付 { MONEY($earlier) }，剩余额度不足规则计算的 { MONEY($given) }，本计划不做部分支付
engine-refused-policy-year = 本期不支付：本计划每保单年度（自入保周年日起算）最多支付 { MONEY($cap) }，本保单年度此前已支付 { MONEY($earlier) }，剩余额度不足规则计算的 { MONEY($given) }，本计划不做部分支付
engine-capped-group = 按家庭（团体）上限支付 { MONEY($paid) }：本计划每年对同一家庭（团体）合计最多支付 { MONEY($cap) }，今年此前已向其支付 { MONEY($earlier) }（规则计算为 { MONEY($given) }）
engine-refused-group = 本期不支付：本计划每年对同一家庭（团体）合计最多支付 { MONEY($cap) }，今年此前已向其支付 { MONEY($earlier) }，剩余额度不足规则计算的 { MONEY($given) }，本计划不做部分支付
engine-capped-pool = 按奖励池余额支付 { MONEY($paid) }：总额 { MONEY($pool) } 的奖励池仅剩 { MONEY($left) }（规则计算为 { MONEY($given) }）
engine-refused-pool = 本期不支付：总额 { MONEY($pool) } 的奖励池仅剩 { MONEY($left) }，不足规则计算的 { MONEY($given) }，本计划不做部分支付
engine-whole-units = 支付 { MONEY($paid) }：奖励按每份 { MONEY($unit) } 整份发放，上限内剩余的 { MONEY($left) } 不足整份
engine-premium-limited = 保费调整限于每期 { $limit }%（规则计算为 { $given }%）
engine-loading-floor = 保费加费保持不低于下限 { $floor }%（现加费 { $loading }%，调整 { $given }% → { $adjusted }%）
engine-loading-cap = 保费加费保持不高于上限 { $cap }%（现加费 { $loading }%，调整 { $given }% → { $adjusted }%）

## 仅工作人员可见的步骤。

engine-rounded = { $given } { $currency } 舍入为 { MONEY($paid) }（{ $mode }，单位 { $unit }）
engine-premium-rounded = 保费调整由 { $given }% 舍入为 { $adjusted }%

## 会员看到的内容。

member-reward = 奖励：{ MONEY($reward) }
member-premium-change = 保费调整：{ $change }%
member-status = 等级：{ $status }
member-points = 积分：{ $points }
member-why = 原因：
