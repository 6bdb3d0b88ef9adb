# English text of the explanation lines rules.rhai gives (its `reason("id", …)` calls), the
# plan's name and its statuses as members see them. The engine's own lines (the premium
# loading's floor and cap, the member view's labels) come from the engine's catalog unless a
# message of the same id is given here.
#
# $year is the plan year (the period, such as 2026). An item's $points are what it gives after
# its yearly cap, $before_cap what it would give without the cap, and $capped whether the cap
# took some. $share is rounded by the script (one decimal, more only next to a step of the
# fasting table) and is written as given. $status is the status as the script names it
# (bronze, silver, gold, platinum). $amount is the reward, in the plan's currency (MONEY), and
# $earns says whether there is one. In the renewal lines $points are percentage points of
# premium loading.

policy-name = Glucose Vitality status

tier-bronze = Bronze
tier-silver = Silver
tier-gold = Gold
tier-platinum = Platinum

measuring-days = you measured on { $days } { $days ->
        [one] day
       *[other] days
    } in { $year } ({ $per_day } { $per_day ->
        [one] point
       *[other] points
    } a day): { $points } { $points ->
        [one] point
       *[other] points
    }{ $capped ->
        [true] , the most this gives in a year ({ $before_cap } before the cap)
       *[false] { "" }
    }

measuring-readings = { $counted } { $counted ->
        [one] reading
       *[other] readings
    } counted, at most one an hour ({ $per_reading } { $per_reading ->
        [one] point
       *[other] points
    } each): { $points } { $points ->
        [one] point
       *[other] points
    }{ $capped ->
        [true] , the most this gives in a year ({ $before_cap } before the cap)
       *[false] { "" }
    }

fasting-too-few = { $readings } fasting { $readings ->
        [one] reading
       *[other] readings
    }; at least { $needed } are needed to earn points for fasting control

fasting-share = { $share }% of { $readings } fasting { $readings ->
        [one] reading was
       *[other] readings were
    } in 4.4–7.0 mmol/L: { $points } { $points ->
        [one] point
       *[other] points
    }

hba1c-none = no HbA1c result in { $year }: no points for checking it or for the result

hba1c-in-target = your latest HbA1c in { $year } was { $latest }%, below { $target }%: { $check_points } points for the check and { $result_points } for the result

hba1c-not-in-target = your latest HbA1c in { $year } was { $latest }%, not below { $target }%: { $check_points } points for the check

status-points = { $earned } { $earned ->
        [one] point
       *[other] points
    } earned in { $year } plus { $carried } carried over ({ $carry_percent }% of last year's { $last_year }): { $total } { $total ->
        [one] point
       *[other] points
    }, { $status } status

renewal-loading-up = { $status } status adds { $points } percentage { $points ->
        [one] point
       *[other] points
    } to your premium loading at renewal{ $earns ->
        [true] { " " }and earns a { MONEY($amount) } reward
       *[false] { "" }
    }

renewal-loading-down = { $status } status takes { $points } percentage { $points ->
        [one] point
       *[other] points
    } off your premium loading at renewal{ $earns ->
        [true] { " " }and earns a { MONEY($amount) } reward
       *[false] { "" }
    }

renewal-loading-unchanged = { $status } status leaves your premium loading as it is at renewal{ $earns ->
        [true] { " " }and earns a { MONEY($amount) } reward
       *[false] { "" }
    }
