-- 应急管理局 Emergency management: still keyed by the 15-digit registration number (注册号).
CREATE TABLE reg_no_map (                   -- crosswalk: old registration number -> USCC
    reg_no  char(15) PRIMARY KEY,
    uscc    char(18) NOT NULL UNIQUE
);
CREATE TABLE t_code (                       -- one code table for every code kind
    code_kind  text NOT NULL,               -- 'LIC_STATUS' | 'PUN_TYPE' | 'CHK_RESULT'
    code       text NOT NULL,
    meaning    text NOT NULL,
    PRIMARY KEY (code_kind, code)
);
CREATE TABLE safety_licence (               -- 安全生产许可证
    id          bigserial PRIMARY KEY,
    reg_no      char(15) NOT NULL,
    cert_no     text NOT NULL,
    scope       text NOT NULL,
    issued      timestamp NOT NULL,
    expires     timestamp,
    status      text NOT NULL
);
CREATE INDEX safety_licence_reg ON safety_licence (reg_no);
CREATE TABLE punishment (
    id          bigserial PRIMARY KEY,
    reg_no      char(15) NOT NULL,
    doc_no      text NOT NULL,
    pun_type    text NOT NULL,
    amount_yuan numeric(12, 2),
    decided_at  timestamp NOT NULL,
    reason      text NOT NULL,
    is_serious  smallint NOT NULL DEFAULT 0
);
CREATE INDEX punishment_reg ON punishment (reg_no);
CREATE TABLE safety_check (
    id          bigserial PRIMARY KEY,
    reg_no      char(15) NOT NULL,
    checked_at  timestamp NOT NULL,
    result      text NOT NULL,
    staff       text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX safety_check_reg ON safety_check (reg_no);
CREATE TABLE inspection_item (
    code        text PRIMARY KEY,
    title       text NOT NULL,
    basis       text NOT NULL,
    kinds       text[] NOT NULL,
    sections    text[] NOT NULL,
    std_code    text,
    may_delegate boolean NOT NULL,
    skill_tags  text[] NOT NULL
);
CREATE TABLE staff (
    staff_no    text PRIMARY KEY,
    name        text NOT NULL,
    badge_no    text NOT NULL UNIQUE,
    skills      text[] NOT NULL,
    area_code   char(6) NOT NULL,
    active      boolean NOT NULL DEFAULT true
);
CREATE TABLE staff_avoidance (
    staff_no    text NOT NULL REFERENCES staff(staff_no),
    reg_no      char(15) NOT NULL,
    note        text NOT NULL,
    PRIMARY KEY (staff_no, reg_no)
);
