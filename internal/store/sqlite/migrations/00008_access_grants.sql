-- Access grants (store.Grant): who may see which patient's compartment,
-- from what, and when. An access predicate naming a grantee joins this
-- table inside every query (sqlsearch accessCond). The primary key serves
-- both the grantee's patients (a range on grantee) and one patient's check;
-- rows carry the patient key, so a patient-sharded database keeps them with
-- the patient's data.

-- +goose Up
CREATE TABLE access_grant (
    grantee TEXT NOT NULL,
    patient_key TEXT NOT NULL,
    source TEXT NOT NULL,
    valid_from_us BIGINT NOT NULL,
    valid_to_us BIGINT NOT NULL, -- 0: open-ended
    PRIMARY KEY (grantee, patient_key, source)
);
CREATE INDEX access_grant_source ON access_grant (source);

-- +goose Down
DROP TABLE access_grant;
