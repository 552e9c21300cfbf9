-- 卫生健康委员会 Health commission, on MariaDB: snake_case English names, integer codes with
-- their own code tables, DATETIME, money in DECIMAL yuan, JSON arrays, and rows keyed by the
-- commission's own unit id; supervised_unit resolves a unit to its USCC.
CREATE TABLE code_unit_type (id TINYINT UNSIGNED PRIMARY KEY, label VARCHAR(40) NOT NULL);
CREATE TABLE code_entity_kind (id TINYINT UNSIGNED PRIMARY KEY, label VARCHAR(40) NOT NULL);
CREATE TABLE code_licence_status (id TINYINT UNSIGNED PRIMARY KEY, label VARCHAR(40) NOT NULL);
CREATE TABLE code_penalty_type (id TINYINT UNSIGNED PRIMARY KEY, label VARCHAR(40) NOT NULL);
CREATE TABLE code_check_result (id TINYINT UNSIGNED PRIMARY KEY, label VARCHAR(40) NOT NULL);
CREATE TABLE supervised_unit (                 -- 监管对象: what the commission supervises
    unit_id          INT UNSIGNED PRIMARY KEY,
    uscc             CHAR(18) NOT NULL,
    unit_type_id     TINYINT UNSIGNED NOT NULL,
    district_code    CHAR(6) NOT NULL,
    supervised_since DATETIME NOT NULL,
    UNIQUE KEY supervised_unit_uscc (uscc),
    CONSTRAINT supervised_unit_type FOREIGN KEY (unit_type_id) REFERENCES code_unit_type (id)
);
CREATE TABLE practice_licence (                -- 医疗机构执业许可证, 公共场所卫生许可证, …
    licence_id   INT UNSIGNED PRIMARY KEY,
    unit_id      INT UNSIGNED NOT NULL,
    licence_no   VARCHAR(64) NOT NULL,
    licence_type VARCHAR(100) NOT NULL,
    issued_at    DATETIME NOT NULL,
    expires_at   DATETIME NULL,
    status_id    TINYINT UNSIGNED NOT NULL,
    KEY practice_licence_unit (unit_id, issued_at),
    CONSTRAINT practice_licence_of FOREIGN KEY (unit_id) REFERENCES supervised_unit (unit_id),
    CONSTRAINT practice_licence_status FOREIGN KEY (status_id) REFERENCES code_licence_status (id)
);
CREATE TABLE administrative_penalty (
    penalty_id      INT UNSIGNED PRIMARY KEY,
    unit_id         INT UNSIGNED NOT NULL,
    decision_no     VARCHAR(64) NOT NULL,
    penalty_type_id TINYINT UNSIGNED NOT NULL,
    fine_yuan       DECIMAL(12, 2) NULL,
    decided_at      DATETIME NOT NULL,
    violation_text  VARCHAR(500) NOT NULL,
    is_serious      TINYINT(1) NOT NULL DEFAULT 0,
    KEY administrative_penalty_unit (unit_id, decided_at),
    CONSTRAINT administrative_penalty_of FOREIGN KEY (unit_id) REFERENCES supervised_unit (unit_id),
    CONSTRAINT administrative_penalty_type
        FOREIGN KEY (penalty_type_id) REFERENCES code_penalty_type (id)
);
CREATE TABLE supervision_check (               -- 监督检查记录
    check_id      INT UNSIGNED PRIMARY KEY,
    unit_id       INT UNSIGNED NOT NULL,
    checked_at    DATETIME NOT NULL,
    result_id     TINYINT UNSIGNED NOT NULL,
    inspector_nos JSON NOT NULL CHECK (JSON_VALID(inspector_nos)),
    KEY supervision_check_unit (unit_id, checked_at),
    KEY supervision_check_at (checked_at),
    CONSTRAINT supervision_check_of FOREIGN KEY (unit_id) REFERENCES supervised_unit (unit_id),
    CONSTRAINT supervision_check_result FOREIGN KEY (result_id) REFERENCES code_check_result (id)
);
CREATE TABLE random_check_item (               -- 随机抽查事项清单
    item_code         VARCHAR(20) PRIMARY KEY,
    item_name         VARCHAR(200) NOT NULL,
    legal_basis       VARCHAR(500) NOT NULL,
    entity_kind_ids   JSON NOT NULL,             -- code_entity_kind ids
    industry_sections JSON NOT NULL,             -- GB/T 4754 sections, [] = all
    standard_code     VARCHAR(40) NULL,
    delegable         TINYINT(1) NOT NULL,
    skill_tags        JSON NOT NULL
);
CREATE TABLE health_inspector (                -- 卫生监督员
    inspector_no  VARCHAR(20) PRIMARY KEY,
    full_name     VARCHAR(40) NOT NULL,
    cert_no       VARCHAR(20) NOT NULL,
    skill_tags    JSON NOT NULL,
    district_code CHAR(6) NOT NULL,
    on_duty       TINYINT(1) NOT NULL DEFAULT 1,
    UNIQUE KEY health_inspector_cert (cert_no),
    KEY health_inspector_district (district_code)
);
CREATE TABLE inspector_recusal (               -- 回避: declared conflicts of interest
    inspector_no VARCHAR(20) NOT NULL,
    unit_id      INT UNSIGNED NOT NULL,
    reason       VARCHAR(200) NOT NULL,
    PRIMARY KEY (inspector_no, unit_id),
    KEY inspector_recusal_unit (unit_id),
    CONSTRAINT inspector_recusal_by FOREIGN KEY (inspector_no) REFERENCES health_inspector (inspector_no),
    CONSTRAINT inspector_recusal_of FOREIGN KEY (unit_id) REFERENCES supervised_unit (unit_id)
);
