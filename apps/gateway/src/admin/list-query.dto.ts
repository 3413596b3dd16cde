import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageQueryDto } from '#libs/contracts';

/** The paging of every admin listing (PageQueryDto, #libs/contracts). */
export class ListQueryDto extends PageQueryDto {}

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
