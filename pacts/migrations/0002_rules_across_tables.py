"""Rules that span tables, enforced by PostgreSQL itself.

- An event's lane is "joint" or one of its agreement's two parties, and stays so
  when the agreement's parties change (constraint triggers).
- `resolves` points to an event of the same agreement (a composite foreign key on
  (agreement_id, resolves_id)), never to an occurred event, never in a cycle.

SQLite (the embedded demo) has no such triggers; the forms and the importer check
the same rules before writing.
"""

from django.db import migrations

EVENT_RULES = """
CREATE FUNCTION pacts_event_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parties record;
BEGIN
    SELECT party_a_id, party_b_id INTO parties FROM pacts_agreement WHERE id = NEW.agreement_id;
    IF NEW.lane <> 'joint' AND NEW.lane IS DISTINCT FROM parties.party_a_id
            AND NEW.lane IS DISTINCT FROM parties.party_b_id THEN
        RAISE EXCEPTION 'event lane % is not a party of agreement %', NEW.lane, NEW.agreement_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'event_lane_is_party';
    END IF;
    IF NEW.resolves_id IS NOT NULL THEN
        IF (SELECT status FROM pacts_event WHERE id = NEW.resolves_id) = 'occurred' THEN
            RAISE EXCEPTION 'event % resolves event %, which occurred', NEW.id, NEW.resolves_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'event_resolves_unsettled_event';
        END IF;
        IF EXISTS (
            WITH RECURSIVE chain(id) AS (
                SELECT NEW.resolves_id
                UNION
                SELECT e.resolves_id FROM pacts_event e JOIN chain ON e.id = chain.id
                WHERE e.resolves_id IS NOT NULL
            )
            SELECT 1 FROM chain WHERE id = NEW.id
        ) THEN
            RAISE EXCEPTION 'event % would resolve itself through a cycle', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'event_resolves_no_cycle';
        END IF;
    END IF;
    IF NEW.status = 'occurred' AND EXISTS (SELECT 1 FROM pacts_event WHERE resolves_id = NEW.id) THEN
        RAISE EXCEPTION 'event % is resolved by another event, so it cannot be occurred', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'event_resolves_unsettled_event';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER pacts_event_rules
    AFTER INSERT OR UPDATE OF agreement_id, lane, status, resolves_id ON pacts_event
    FOR EACH ROW EXECUTE FUNCTION pacts_event_rules();

CREATE FUNCTION pacts_agreement_lanes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM pacts_event
        WHERE agreement_id = NEW.id AND lane <> 'joint' AND lane NOT IN (NEW.party_a_id, NEW.party_b_id)
    ) THEN
        RAISE EXCEPTION 'agreement % has events in the lane of a party it no longer has', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'event_lane_is_party';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER pacts_agreement_lanes
    AFTER UPDATE OF party_a_id, party_b_id ON pacts_agreement
    FOR EACH ROW EXECUTE FUNCTION pacts_agreement_lanes();

ALTER TABLE pacts_event ADD CONSTRAINT event_resolves_same_agreement
    FOREIGN KEY (agreement_id, resolves_id) REFERENCES pacts_event (agreement_id, id);
"""

DROP_EVENT_RULES = """
ALTER TABLE pacts_event DROP CONSTRAINT event_resolves_same_agreement;
DROP TRIGGER pacts_agreement_lanes ON pacts_agreement;
DROP FUNCTION pacts_agreement_lanes();
DROP TRIGGER pacts_event_rules ON pacts_event;
DROP FUNCTION pacts_event_rules();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("pacts", "0001_initial")]

    operations = [migrations.RunPython(on_postgresql(EVENT_RULES), on_postgresql(DROP_EVENT_RULES))]
