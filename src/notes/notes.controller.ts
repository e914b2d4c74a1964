import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, UnprocessableEntityException, UsePipes, ValidationPipe } from '@nestjs/common';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { CurrentUser } from '../auth';
import { Note, NotesService } from './notes.service';

class CreateNoteDto {
  @IsString() @MinLength(1) @MaxLength(2000) text!: string;
}

/**
 * Protected by auth's global guard: no decorator needed, `@CurrentUser()` gives the caller. Its
 * own errors are Nest's exceptions, in Nest's format: auth does not touch them.
 */
@Controller('notes')
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
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
    if (note === 'LIMIT') throw new UnprocessableEntityException(`at most ${NotesService.MAX_NOTES_PER_USER} notes`);
    return note;
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentUser('sub') userId: string, @Param('id') id: string): void {
    if (!this.notes.remove(userId, id)) throw new NotFoundException(`note ${id} not found`);
  }
}
