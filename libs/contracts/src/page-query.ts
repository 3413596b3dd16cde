import type { Type as Class } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

/** What one listing allows: the largest page, the page size when none is asked for, and the cursor's length. */
export interface PageBounds {
  maxLimit: number;
  defaultLimit: number;
  /** Inclusive bounds of the cursor's length ([0, n]: an empty cursor is the first page). */
  cursorLength: readonly [min: number, max: number];
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/**
 * The paging query of a listing with the given bounds: a page size and the cursor the previous page
 * answered. Combine it with a listing's own filters through IntersectionType (filters first, as
 * Swagger lists them).
 */
export function pageQuery(bounds: PageBounds): Class<PageQuery> {
  class PageQueryOf implements PageQuery {
    @ApiPropertyOptional({ minimum: 1, maximum: bounds.maxLimit, default: bounds.defaultLimit })
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Min(1)
    @Max(bounds.maxLimit)
    limit?: number;

    @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
    @IsOptional()
    @IsString()
    @Length(bounds.cursorLength[0], bounds.cursorLength[1])
    cursor?: string;
  }
  return PageQueryOf;
}

/** The paging every admin listing takes unless it says otherwise: pages of 50, at most 200. */
export class PageQueryDto extends pageQuery({ maxLimit: 200, defaultLimit: 50, cursorLength: [1, 512] }) {}

/** The evaluator's listings of rows and results: pages of up to 1000 rows, cursors of at most 64 characters. */
export const ROW_PAGE_BOUNDS = { maxLimit: 1000, cursorLength: [0, 64] } as const;
