import { MigrationInterface, QueryRunner } from 'typeorm';

export class IndexFinishedWebhookDeliveries1795615000401 implements MigrationInterface {
  name = 'IndexFinishedWebhookDeliveries1795615000401';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The hourly sweep deletes finished deliveries older than 30 days without scanning the table.
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_finished" ON "webhook_deliveries" ("updated_at") WHERE "status" <> 'pending'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_webhook_deliveries_finished"`);
  }
}
