/**
 * The data the client works with: names for the generated OpenAPI wire types (src/api, never
 * edited by hand) plus the fixed vocabularies of the product.
 */
import type { components } from "../api/schema.gen";

export const REACTIONS = ["heart", "like", "check", "laugh", "surprise", "sad"] as const;
export type ReactionKind = (typeof REACTIONS)[number];

export const WORK_STATUSES = ["working", "meeting", "vacation", "off"] as const;
export type WorkStatus = (typeof WORK_STATUSES)[number];

export type RoomKind = "direct" | "self" | "group";
export type Role = "owner" | "admin" | "member";

type Schemas = components["schemas"];

export type ReactionSummary = Schemas["ReactionOut"];
export type ReplyPreview = Schemas["ReplyOut"];
export type Message = Schemas["MessageOut"];
export type RoomSummary = Schemas["RoomOut"];
export type Member = Schemas["MemberOut"];
export type ReadPosition = Schemas["ReadPositionOut"];
export type MessagePage = Schemas["HistoryOut"];
export type PersonSummary = Schemas["UserOut"];
export type Profile = Schemas["ProfileOut"];
export type SessionInfo = Schemas["SessionOut"];
export type Me = Schemas["MeOut"];

export type PresenceStatus = "online" | "away" | "offline";
