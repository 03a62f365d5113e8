import type { Logger } from 'pino';
import type { ChannelRegistry } from '../media/channel-registry.js';
import { allowed } from '../ingest/allow-list.js';
import type { PublishDecision, PublishRequest } from '../ingest/rtmp/index.js';
import type { StreamKeyRepository } from '../db/repository.js';
import type { KeyedHash } from '../db/keyed-hash.js';
import type { Channel } from '../media/channel.js';
import { DEMO_STREAM_KEY } from '../config/schema.js';

/** What check() found: the channel and input a key publishes to, or why not. */
export type PublishCheck =
  | { accept: true; channel: Channel; input: string; keyId: string | undefined }
  | Extract<PublishDecision, { accept: false }>;

/**
 * Decides an RTMP publish: the stream key names a channel and one of its inputs (a config
 * channel's key or backup key, compared in constant time, or an unrevoked API key found by its
 * keyed digest), the publisher's address is on the channel's allow-list, and nobody publishes on
 * that input yet. The demo channel's public key is an unknown key once any other channel exists. Refusals say why, in the
 * log and in the onStatus the encoder shows; the key itself is never logged.
 */
export class PublishAuthorizer {
  constructor(private readonly o: {
    channels: ChannelRegistry;
    /** API stream keys; without them only config keys publish. */
    streamKeys?: { repo: StreamKeyRepository; hash: KeyedHash };
    logger: Logger;
  }) {}

  /**
   * Whether a publish may go ahead, without connecting it: the key names a channel and an input,
   * the address is allowed, nobody publishes on that input. SRT asks this during the caller's
   * handshake (to pick the channel's passphrase), before the connection exists.
   */
  async check(req: Pick<PublishRequest, 'streamKey' | 'remoteAddress'>): Promise<PublishCheck> {
    const { channels } = this.o;
    const configKey = channels.byStreamKey(req.streamKey);
    let channel = configKey?.channel, input = configKey?.input ?? 'primary';
    // The key is public (README): it publishes only while the demo channel is the origin's one channel.
    if (channel && req.streamKey === DEMO_STREAM_KEY && channels.all().some((ch) => ch !== channel)) {
      return { accept: false, reason: 'unknown stream key (the public demo key is refused once another channel exists)', code: 'NetStream.Publish.BadName' };
    }
    let keyId: string | undefined;
    if (!channel && this.o.streamKeys) {
      const key = await this.o.streamKeys.repo.findActiveByHash(this.o.streamKeys.hash.digest(req.streamKey));
      if (key) {
        channel = channels.get(key.channelId);
        input = key.input;
        keyId = key.id;
      }
    }
    if (!channel) return { accept: false, reason: 'unknown stream key', code: 'NetStream.Publish.BadName' };
    return this.admissible(channel, input, keyId, req.remoteAddress);
  }

  /**
   * Whether a publisher already authenticated for a channel (WHIP's publish token names the
   * channel, not a key) may publish on its input: the allow-list and a free input.
   */
  checkChannel(channelId: string, input: string, remoteAddress: string): PublishCheck {
    const channel = this.o.channels.get(channelId);
    if (!channel) return { accept: false, reason: `no channel ${channelId}`, code: 'NetStream.Publish.BadName' };
    return this.admissible(channel, input, undefined, remoteAddress);
  }

  /** The address on the channel's allow-list and nobody on the input. */
  private admissible(channel: Channel, input: string, keyId: string | undefined, remoteAddress: string): PublishCheck {
    if (!allowed(this.o.channels.settings(channel.id)?.allowList, remoteAddress)) {
      return { accept: false, reason: `address ${remoteAddress} is not on channel ${channel.id}'s ipAllowList`, code: 'NetStream.Publish.Denied', channelId: channel.id };
    }
    return this.busy(channel, input) ?? { accept: true, channel, input, keyId };
  }

  async decide(req: PublishRequest): Promise<PublishDecision> {
    return this.admit(await this.check(req), req);
  }

  /** Connects a publisher check() or checkChannel() accepted, unless its input was taken meanwhile. */
  async admit(checked: PublishCheck, req: Pick<PublishRequest, 'remoteAddress' | 'disconnect'>): Promise<PublishDecision> {
    if (!checked.accept) return checked;
    const { channel, input, keyId } = checked;
    // The channel may have been live on another origin sharing its archive: continue that playlist.
    // The last await: from the busy check to connect nothing yields, so two publishers cannot both pass.
    try {
      await channel.adoptArchivedPlaylist();
    } catch (err) {
      this.o.logger.warn({ err, channel: channel.id }, 'cannot read the shared archive; the publisher starts a new playlist');
    }
    const busy = this.busy(channel, input);
    if (busy) return busy;
    if (keyId) {
      const id = keyId;
      this.o.streamKeys!.repo.markUsed(id).catch((err) => this.o.logger.warn({ err, channel: channel.id, streamKeyId: id }, 'cannot note the stream key use'));
    }
    return { accept: true, channelId: channel.id, sink: channel.inputs.connect(input, req.remoteAddress, req.disconnect) };
  }

  private busy(channel: Channel, input: string): Extract<PublishDecision, { accept: false }> | undefined {
    if (!channel.inputs.busy(input)) return undefined;
    const which = input === 'primary' ? '' : ` on its ${input} input`;
    return { accept: false, reason: `channel ${channel.id} already has a publisher${which}`, code: 'NetStream.Publish.BadName', channelId: channel.id };
  }
}
