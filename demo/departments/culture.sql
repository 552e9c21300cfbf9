-- 文化广电旅游局 Culture, radio, TV and tourism: camelCase columns, codes stored as Chinese labels.
CREATE TABLE "dictItem" ("dictType" text NOT NULL, "itemValue" text NOT NULL, "itemLabel" text NOT NULL,
                         PRIMARY KEY ("dictType", "itemValue"));
CREATE TABLE "businessPermit" (           -- 网络文化经营许可证, 娱乐经营许可证 ...
    "permitId"     uuid PRIMARY KEY,
    "creditCode"   text NOT NULL,
    "permitNumber" text NOT NULL,
    "permitType"   text NOT NULL,
    "validFrom"    date NOT NULL,
    "validUntil"   date,
    "permitState"  text NOT NULL           -- dictType 'permit_state', e.g. '有效'
);
CREATE INDEX "businessPermit_cc" ON "businessPermit" ("creditCode");
CREATE TABLE "adminPenalty" (
    "penaltyId"    uuid PRIMARY KEY,
    "creditCode"   text NOT NULL,
    "documentNo"   text NOT NULL,
    "penaltyType"  text NOT NULL,          -- dictType 'penalty_type', e.g. '罚款'
    "fineAmount"   numeric(12, 2),
    "decisionDate" date NOT NULL,
    "illegalFact"  text NOT NULL,
    "serious"      boolean NOT NULL DEFAULT false
);
CREATE INDEX "adminPenalty_cc" ON "adminPenalty" ("creditCode");
CREATE TABLE "inspectionRecord" (
    "recordId"     uuid PRIMARY KEY,
    "creditCode"   text NOT NULL,
    "inspectDate"  date NOT NULL,
    "resultLabel"  text NOT NULL,          -- dictType 'check_result'
    "inspectorIds" text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX "inspectionRecord_cc" ON "inspectionRecord" ("creditCode");
CREATE TABLE "checkItem" (
    "itemCode" text PRIMARY KEY, "itemName" text NOT NULL, "legalBasis" text NOT NULL,
    "entityKinds" text[] NOT NULL, "industryCodes" text[] NOT NULL, "standardCode" text,
    "delegable" boolean NOT NULL, "tags" text[] NOT NULL
);
CREATE TABLE "lawOfficer" (
    "officerId" text PRIMARY KEY, "realName" text NOT NULL, "certificateNo" text NOT NULL UNIQUE,
    "tags" text[] NOT NULL, "districtCode" text NOT NULL, "available" boolean NOT NULL DEFAULT true
);
CREATE TABLE "officerConflict" (
    "officerId" text NOT NULL REFERENCES "lawOfficer"("officerId"), "creditCode" text NOT NULL,
    "reason" text NOT NULL, PRIMARY KEY ("officerId", "creditCode")
);
