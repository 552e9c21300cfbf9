-- 发展和改革委员会 Public credit platform: credit records from every department, grades, lists.
CREATE TABLE record_type (type_code varchar(4) PRIMARY KEY, type_name text NOT NULL);
CREATE TABLE credit_record (
    record_id     bigint PRIMARY KEY,
    uscc          char(18) NOT NULL,
    type_code     varchar(4) NOT NULL REFERENCES record_type(type_code),
    title         text NOT NULL,
    source_dept   text NOT NULL,            -- department code that reported it
    decided_on    date NOT NULL,
    effective_to  date,                     -- end of publicity / list membership; NULL = open
    withdrawn_on  date,                     -- set by a credit repair (the record stays)
    deduction     integer NOT NULL DEFAULT 0,
    ref_record_id bigint,                   -- a repair points at the record it repairs
    severity      varchar(2),               -- 失信程度: JG warning, QW minor, YB general, YZ serious
    basis_record_id bigint                  -- a list entry points at the record that founded it
);
CREATE INDEX credit_record_uscc ON credit_record (uscc);
CREATE TABLE credit_rating (
    uscc          char(18) PRIMARY KEY,
    grade         char(1) NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
    score         integer NOT NULL,
    rated_on      date NOT NULL
);
CREATE INDEX credit_rating_grade ON credit_rating (grade, uscc);
