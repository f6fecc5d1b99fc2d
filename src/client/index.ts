// The typed client SDK (`pantheon/client`): the wire contract, a client that keeps room events in
// order, REST calls with uploads, and a live model of a room for apps to draw.
export * from '../contract/dto';
export * from '../contract/events';
export { PantheonClient, newClientMsgId, type PantheonClientOptions, type ClientSocket, type ConnectionState } from './pantheon-client';
export { PantheonError, PantheonRest, type FileSummary, type NewAgent, type Page, type RoomUsage, type UploadOptions, type UploadProgress, type UploadSource, type UsageRow } from './rest';
export { RoomModel, type AgentReply, type FileView, type OnlineUser, type SummaryView, type TimelineItem, type ToolCallView, type TurnView, type UserMessage } from './room-model';
