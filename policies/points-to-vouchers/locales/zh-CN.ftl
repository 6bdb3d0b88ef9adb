# rules.rhai 各条说明（`reason("id", …)`）的简体中文文本，以及会员看到的计划名称。
# 引擎自身的说明（整张发放代金券、上限、会员页面标签）取自引擎的中文目录，除非此处以相同 id 另行给出。
#
# MONEY($value) 按计划币种写出代金券面值；$share 为当月空腹读数达标的比例，脚本已保留一位小数。

policy-name = 积分兑换代金券

measuring-days = 测量血糖 { $days } 天：获得 { $points } 积分

fasting-control = 空腹血糖控制良好（{ PERCENT($share) } 的空腹读数在 4.4～7.0 mmol/L）：额外获得 { $points } 积分

severe-hypo-review = 有血糖读数低于 { $below } mg/dL（严重低血糖）：我们将安排临床医生复核您的低血糖情况

vouchers-bought = { $vouchers ->
        [0] { $points } 积分不足以兑换代金券（每 { $points_per_voucher } 积分可兑换一张面值 { MONEY($value) } 的代金券）
       *[other] { $points } 积分兑换 { $vouchers } 张面值 { MONEY($value) } 的代金券
    }
