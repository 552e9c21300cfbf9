-- 市场监督管理局 Market regulation: the entity register. Pinyin-initial names, as its system has them.
CREATE TABLE DM_ZTLX (DM varchar(2) PRIMARY KEY, MC text NOT NULL);          -- 主体类型 entity kind
CREATE TABLE DM_DJZT (DM varchar(2) PRIMARY KEY, MC text NOT NULL);          -- 登记状态 registration status
CREATE TABLE DM_XKZT (DM varchar(2) PRIMARY KEY, MC text NOT NULL);          -- 许可状态 permit status
CREATE TABLE DM_CFZL (DM varchar(2) PRIMARY KEY, MC text NOT NULL);          -- 处罚种类 penalty kind
CREATE TABLE DM_JCJG (DM varchar(2) PRIMARY KEY, MC text NOT NULL);          -- 检查结果 inspection result

CREATE TABLE SCZTDJ (                       -- 市场主体登记 entity register
    TYSHXYDM char(18) PRIMARY KEY,          -- 统一社会信用代码
    QYMC     text NOT NULL,                 -- 企业名称
    ZTLX     varchar(2) NOT NULL REFERENCES DM_ZTLX(DM),
    XZQH     char(6) NOT NULL,              -- 行政区划
    HYML     char(1) NOT NULL,              -- 行业门类 GB/T 4754 section
    ZS       text NOT NULL,                 -- 住所
    JD       double precision,              -- 经度
    WD       double precision,              -- 纬度
    CLRQ     date NOT NULL,                 -- 成立日期
    DJZT     varchar(2) NOT NULL REFERENCES DM_DJZT(DM),
    FDDBR    text                           -- 法定代表人
);
CREATE INDEX SCZTDJ_XZQH ON SCZTDJ (XZQH, TYSHXYDM);
CREATE INDEX SCZTDJ_HYML ON SCZTDJ (HYML, TYSHXYDM);
-- Name fragments (the hub's nameContains, ILIKE '%…%'): trigrams find a fragment of three or
-- more characters without reading the register (1.08 M names: ~1 ms instead of ~1 s).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX SCZTDJ_QYMC_TRGM ON SCZTDJ USING gin (QYMC gin_trgm_ops);

CREATE TABLE XZXK (                         -- 行政许可 permits
    XKID     bigint PRIMARY KEY,
    TYSHXYDM char(18) NOT NULL,
    XKWSH    text NOT NULL,                 -- 许可文书号
    XKMC     text NOT NULL,                 -- 许可名称
    XKRQ     date NOT NULL,                 -- 许可日期
    YXQZ     date,                          -- 有效期至
    XKZT     varchar(2) NOT NULL REFERENCES DM_XKZT(DM),
    GZCN     boolean NOT NULL DEFAULT false -- 告知承诺 commitment-based approval
);
CREATE INDEX XZXK_TYSHXYDM ON XZXK (TYSHXYDM);

CREATE TABLE XZCF (                         -- 行政处罚 penalties
    CFID     bigint PRIMARY KEY,
    TYSHXYDM char(18) NOT NULL,
    CFJDSWH  text NOT NULL,                 -- 处罚决定书文号
    CFZL     varchar(2) NOT NULL REFERENCES DM_CFZL(DM),
    FKJE     numeric(14, 2),                -- 罚款金额 (元)
    CFJDRQ   date NOT NULL,                 -- 处罚决定日期
    WFXW     text NOT NULL,                 -- 违法行为
    YZWF     boolean NOT NULL DEFAULT false -- 严重违法 serious case
);
CREATE INDEX XZCF_TYSHXYDM ON XZCF (TYSHXYDM);

CREATE TABLE JCJL (                         -- 检查记录 inspection history
    JCID     bigint PRIMARY KEY,
    TYSHXYDM char(18) NOT NULL,
    JCRQ     date NOT NULL,
    JCJG     varchar(2) NOT NULL REFERENCES DM_JCJG(DM),
    JCRY     text[] NOT NULL DEFAULT '{}'   -- 检查人员 inspector ids
);
CREATE INDEX JCJL_TYSHXYDM ON JCJL (TYSHXYDM);

CREATE TABLE CCSXQD (                       -- 抽查事项清单 random-inspection item list
    SXBM   text PRIMARY KEY,                -- 事项编码
    SXMC   text NOT NULL,
    FLYJ   text NOT NULL,                   -- 法律依据
    SYZTLX varchar(2)[] NOT NULL,           -- 适用主体类型
    SYHY   char(1)[] NOT NULL,              -- 适用行业 (empty = all)
    BZBM   text,                            -- 标准编码 shared standard code
    KWT    boolean NOT NULL,                -- 可委托 delegable
    YWBQ   text[] NOT NULL                  -- 业务标签 required tags
);

CREATE TABLE ZFRY (                         -- 执法人员 inspector pool
    RYID   text PRIMARY KEY,
    XM     text NOT NULL,                   -- 姓名
    ZFZH   text NOT NULL UNIQUE,            -- 执法证号 certificate
    YWBQ   text[] NOT NULL,
    XZQH   char(6) NOT NULL,
    ZT     boolean NOT NULL DEFAULT true    -- 在岗 available
);
CREATE TABLE HBQD (                         -- 回避清单 declared conflicts
    RYID     text NOT NULL REFERENCES ZFRY(RYID),
    TYSHXYDM char(18) NOT NULL,
    YY       text NOT NULL,
    PRIMARY KEY (RYID, TYSHXYDM)
);
