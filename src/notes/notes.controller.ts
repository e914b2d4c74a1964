import { Body, Controller, Delete, Get, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { AuthError, authValidationPipe, CurrentUser } from '../auth';
import { Note, NotesService } from './notes.service';

class CreateNoteDto {
  @IsString() @MinLength(1) @MaxLength(2000) text!: string;
}

/** Protected by the global guard: no decorator needed. Only `src/auth`'s index is used. */
@Controller('notes')
@UsePipes(authValidationPipe())
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Get()
  list(@CurrentUser('sub') userId: string): { notes: Note[] } {
    return { notes: this.notes.list(userId) };
  }

  @Post()
  @HttpCode(201)
  create(@CurrentUser('sub') userId: string, @Body() body: CreateNoteDto): Note {
    const note = this.notes.add(userId, body.text);
    if (note === 'LIMIT') throw new AuthError('VALIDATION_FAILED', { detail: `at most ${NotesService.MAX_NOTES_PER_USER} notes` });
    return note;
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentUser('sub') userId: string, @Param('id') id: string): void {
    if (!this.notes.remove(userId, id)) throw new AuthError('NOT_FOUND');
  }
}
