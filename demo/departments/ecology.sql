-- 生态环境局 Ecology and environment: money in fen, dates as YYYYMMDD text (an older system).
CREATE TABLE code_licence_state (code char(1) PRIMARY KEY, label text NOT NULL);
CREATE TABLE code_sanction_type (code varchar(3) PRIMARY KEY, label text NOT NULL);
CREATE TABLE code_check_outcome (code varchar(3) PRIMARY KEY, label text NOT NULL);

CREATE TABLE discharge_licence (            -- 排污许可证
    licence_id   serial PRIMARY KEY,
    credit_code  varchar(18) NOT NULL,
    licence_no   varchar(40) NOT NULL,
    licence_name text NOT NULL,
    issue_ymd    char(8) NOT NULL,          -- 'YYYYMMDD'
    expire_ymd   char(8),                   -- 'YYYYMMDD' or NULL
    state        char(1) NOT NULL REFERENCES code_licence_state(code)
);
CREATE INDEX discharge_licence_cc ON discharge_licence (credit_code);

CREATE TABLE env_sanction (
    case_id      serial PRIMARY KEY,
    credit_code  varchar(18) NOT NULL,
    decision_no  varchar(60) NOT NULL,
    sanction     varchar(3) NOT NULL REFERENCES code_sanction_type(code),
    fine_fen     bigint NOT NULL DEFAULT 0, -- money in fen (1/100 yuan)
    decided_ymd  char(8) NOT NULL,
    facts        text NOT NULL,
    grave        char(1) NOT NULL DEFAULT 'N'  -- 'Y' serious
);
CREATE INDEX env_sanction_cc ON env_sanction (credit_code);

CREATE TABLE site_check (
    check_id     serial PRIMARY KEY,
    credit_code  varchar(18) NOT NULL,
    check_ymd    char(8) NOT NULL,
    outcome      varchar(3) NOT NULL REFERENCES code_check_outcome(code),
    officer_ids  text NOT NULL DEFAULT ''   -- comma-separated
);
CREATE INDEX site_check_cc ON site_check (credit_code);

CREATE TABLE check_item (
    item_code     varchar(20) PRIMARY KEY,
    item_name     text NOT NULL,
    legal_basis   text NOT NULL,
    entity_kinds  text NOT NULL,            -- comma-separated kind codes of this department
    industries    text NOT NULL,            -- comma-separated sections, '' = all
    standard_code varchar(20),
    delegable     char(1) NOT NULL,         -- 'Y' / 'N'
    tags          text NOT NULL             -- comma-separated
);

CREATE TABLE officer (
    officer_id   varchar(12) PRIMARY KEY,
    full_name    text NOT NULL,
    cert_no      varchar(20) NOT NULL UNIQUE,
    tags         text NOT NULL,
    district     char(6) NOT NULL,
    on_duty      char(1) NOT NULL DEFAULT 'Y'
);
CREATE TABLE officer_conflict (
    officer_id   varchar(12) NOT NULL REFERENCES officer(officer_id),
    credit_code  varchar(18) NOT NULL,
    reason       text NOT NULL,
    PRIMARY KEY (officer_id, credit_code)
);
