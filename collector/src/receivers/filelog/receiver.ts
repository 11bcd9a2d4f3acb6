/** The `filelog` receiver: polls the tailer every poll_interval until shut down. */
import type { CreateSettings, Host, LogsConsumer, Receiver } from '../../component.js';
import { errorMessage } from '../../errors.js';
import { openCheckpointStore } from '../common/checkpoint-store.js';
import { ReceiverSink } from '../common/sink.js';
import type { FilelogConfig } from './config.js';
import { Tailer } from './tailer.js';

export class FilelogReceiver implements Receiver {
  private readonly sink: ReceiverSink;
  private tailer: Tailer | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: FilelogConfig, next: LogsConsumer) {
    this.sink = new ReceiverSink(settings.id, settings.telemetry, next, settings.logger, 'file');
  }

  async start(host: Host): Promise<void> {
    const store = openCheckpointStore(host, this.config.storage, this.settings.id.id);
    const tailer = new Tailer(this.settings.id, this.config, this.sink, store, this.settings.logger, this.settings.telemetry);
    tailer.restore();
    this.tailer = tailer;
    this.settings.logger.info('filelog receiver started', { include: this.config.include.join(','), checkpoint: store.location });
    this.loop = this.run(tailer);
  }

  private async run(tailer: Tailer): Promise<void> {
    while (!this.sink.isStopped) {
      try {
        await tailer.poll();
      } catch (e) {
        this.settings.logger.error('filelog poll failed', { error: errorMessage(e) });
      }
      await this.sink.sleep(this.config.poll_interval);
    }
  }

  async shutdown(): Promise<void> {
    this.tailer?.halt();
    this.sink.stop();
    await this.loop;
    await this.tailer?.close();
  }
}
