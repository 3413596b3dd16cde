import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

type Ctor<T> = new (...args: never[]) => T;

/** A Swagger-described page of `View`: {items, nextCursor}. */
export function PageOf<T>(view: Ctor<T>): Ctor<{ items: T[]; nextCursor: string | null }> {
  class Page {
    @ApiProperty({ type: [view] }) items!: T[];
    @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
  }
  Object.defineProperty(Page, 'name', { value: `${view.name.replace(/View$/, '')}Page` });
  return Page;
}

export class DeletedView {
  @ApiProperty({ enum: [true] }) deleted!: true;
}
