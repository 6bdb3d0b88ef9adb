-- Each member's text attributes by value, so the members of a group (`[caps] group`: those
-- sharing a `family_id`, say) are found by index when one of them is paid. Kept by
-- `Store::upsert_member` with the attributes; filled here from those already on record.
CREATE TABLE member_groups (
    tenant TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (tenant, attribute, value, member_id)
);
CREATE INDEX member_groups_by_member ON member_groups (tenant, member_id);
INSERT INTO member_groups (tenant, attribute, value, member_id)
SELECT m.tenant, j.key, j.value, m.member_id
FROM members m, json_each(m.attributes) j
WHERE m.attributes IS NOT NULL AND j.type = 'text';
