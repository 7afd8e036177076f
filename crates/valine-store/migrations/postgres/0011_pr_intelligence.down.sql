DROP INDEX pr_webhook_deliveries_delivery_id_key;
DROP TABLE pr_webhook_deliveries;
DROP INDEX pr_intelligence_risk_idx;
DROP INDEX pr_intelligence_pr_number_idx;
DROP TABLE pr_intelligence;
