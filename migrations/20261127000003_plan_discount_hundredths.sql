-- Plan discounts take two decimals (12.5 %): kept in hundredths of a percent.
ALTER TABLE plans RENAME COLUMN discount_percentage TO discount_hundredths;
ALTER TABLE plans DROP CONSTRAINT IF EXISTS plans_discount_percentage_check;
UPDATE plans SET discount_hundredths = discount_hundredths * 100;
ALTER TABLE plans ADD CONSTRAINT plans_discount_hundredths_check CHECK (discount_hundredths BETWEEN 0 AND 9900);
