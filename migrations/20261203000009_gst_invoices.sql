-- GST on recharges (issue 25, first part): the operator's GST settings, a buyer's billing state
-- and GSTIN, the taxable value fixed when the order is made, and one invoice per captured
-- recharge with a number from a gap-free sequence per series and financial year.
ALTER TABLE app_config
    ADD COLUMN gst_rate_hundredths integer NOT NULL DEFAULT 1800 CHECK (gst_rate_hundredths BETWEEN 0 AND 10000),
    ADD COLUMN gst_mode text NOT NULL DEFAULT 'INCLUSIVE' CHECK (gst_mode IN ('INCLUSIVE', 'EXCLUSIVE')),
    ADD COLUMN operator_gstin text,
    ADD COLUMN operator_state text,
    ADD COLUMN operator_legal_name text,
    ADD COLUMN operator_address text,
    ADD COLUMN invoice_prefix text NOT NULL DEFAULT 'TT',
    ADD COLUMN sac_code text NOT NULL DEFAULT '998439';

ALTER TABLE accounts
    ADD COLUMN billing_state text,
    ADD COLUMN gstin text;

-- What of the order's amount is taxable (the rest is GST), at the rate and mode of its day.
ALTER TABLE transactions
    ADD COLUMN taxable_paise bigint,
    ADD COLUMN gst_rate_hundredths integer;

-- The last number issued per series (INVOICE, CREDIT_NOTE) and financial year. Taking a number
-- is an update of this row, held until the capture commits: concurrent captures queue here, and
-- a rolled-back capture gives its number back, so numbers are never shared nor skipped.
CREATE TABLE invoice_sequences (
    series          text NOT NULL CHECK (series IN ('INVOICE', 'CREDIT_NOTE')),
    financial_year  text NOT NULL,
    last            integer NOT NULL,
    PRIMARY KEY (series, financial_year)
);

CREATE TABLE invoices (
    id                   uuid PRIMARY KEY,
    transaction_id       uuid NOT NULL REFERENCES transactions (id),
    series               text NOT NULL CHECK (series IN ('INVOICE', 'CREDIT_NOTE')),
    number               text NOT NULL UNIQUE,
    financial_year       text NOT NULL,
    seq                  integer NOT NULL,
    account_id           uuid NOT NULL REFERENCES accounts (id),
    buyer_name           text,
    buyer_state          text,
    buyer_gstin          text,
    operator_gstin       text,
    operator_state       text,
    operator_legal_name  text,
    operator_address     text,
    sac_code             text NOT NULL,
    rate_hundredths      integer NOT NULL,
    taxable_paise        bigint NOT NULL,
    cgst_paise           bigint NOT NULL,
    sgst_paise           bigint NOT NULL,
    igst_paise           bigint NOT NULL,
    total_paise          bigint NOT NULL,
    coins                bigint NOT NULL,
    issued_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT invoices_one_per_series UNIQUE (transaction_id, series),
    CONSTRAINT invoices_sum CHECK (taxable_paise + cgst_paise + sgst_paise + igst_paise = total_paise),
    CONSTRAINT invoices_seq_key UNIQUE (series, financial_year, seq)
);
CREATE INDEX invoices_issued_idx ON invoices (issued_at);
