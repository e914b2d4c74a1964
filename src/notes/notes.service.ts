import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

export interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt: string;
}

/**
 * The example business feature: private notes per user. It knows nothing about tokens or
 * sessions, only the user id the auth context hands it. Kept in memory: it is a demo of
 * consuming auth, not a storage design.
 */
@Injectable()
export class NotesService {
  private readonly byOwner = new Map<string, Note[]>();
  static readonly MAX_NOTES_PER_USER = 100;

  list(ownerId: string): Note[] {
    return [...(this.byOwner.get(ownerId) ?? [])];
  }

  add(ownerId: string, text: string): Note | 'LIMIT' {
    const notes = this.byOwner.get(ownerId) ?? [];
    if (notes.length >= NotesService.MAX_NOTES_PER_USER) return 'LIMIT';
    const note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
    this.byOwner.set(ownerId, [...notes, note]);
    return note;
  }

  remove(ownerId: string, id: string): boolean {
    const notes = this.byOwner.get(ownerId) ?? [];
    const kept = notes.filter((n) => n.id !== id);
    this.byOwner.set(ownerId, kept);
    return kept.length !== notes.length;
  }
}
