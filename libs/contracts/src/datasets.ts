import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsDefined, IsIn, IsInt, IsObject, IsOptional, IsString, Length, MaxLength, Min, ValidateNested } from 'class-validator';
import { pageQuery, ROW_PAGE_BOUNDS } from './page-query.js';

/** One example of a dataset: what the task is given, what it should answer, and anything else a template or scorer reads. */
export class DatasetRowDto {
  @ApiProperty({ description: 'What the task is given: a string or any JSON value ({{input}} in a prompt template, or {{input.field}}).', example: 'What is 6 x 7?' })
  @IsDefined()
  input!: unknown;

  @ApiPropertyOptional({ description: 'The answer a scorer compares the output with (exact match, Levenshtein, numeric difference).', example: '42' })
  @IsOptional()
  expected?: unknown;

  @ApiPropertyOptional({ description: 'Other fields of the row; templates read them as {{metadata.<field>}}.', example: { topic: 'maths' } })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class CreateDatasetDto {
  @ApiProperty({ example: 'arithmetic' })
  @IsString()
  @Length(1, 128)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ type: [DatasetRowDto], description: 'The first rows (version 1); none leaves the dataset at version 0.' })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => DatasetRowDto)
  @ArrayMaxSize(1000)
  rows?: DatasetRowDto[];
}

export class AddDatasetRowsDto {
  @ApiProperty({ type: [DatasetRowDto] })
  @ValidateNested({ each: true })
  @Type(() => DatasetRowDto)
  @ArrayMaxSize(1000)
  rows!: DatasetRowDto[];
}

export class UploadDatasetRowsDto {
  @ApiProperty({ enum: ['jsonl', 'csv'], description: 'jsonl: one {"input", "expected"?, "metadata"?} object a line. csv: a header line with an `input` column, optionally `expected`; other columns become metadata.' })
  @IsIn(['jsonl', 'csv'])
  format!: 'jsonl' | 'csv';

  @ApiProperty({ description: 'The file\'s text.', example: '{"input":"2+2","expected":"4"}\n{"input":"3+3","expected":"6"}' })
  @IsString()
  @Length(1, 50_000_000)
  content!: string;
}

class DatasetVersionQueryDto {
  @ApiPropertyOptional({ description: 'The dataset version to read (default: the latest).', minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  version?: number;
}

export class DatasetRowsQueryDto extends IntersectionType(DatasetVersionQueryDto, pageQuery({ ...ROW_PAGE_BOUNDS, defaultLimit: 100 })) {}

export class DatasetView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ description: 'Grows by one with every batch of rows added (create, add, upload); a run keeps the version it read.' }) version!: number;
  @ApiProperty({ description: 'Rows in the latest version.' }) rowCount!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class DatasetRowView {
  @ApiProperty({ description: 'Position of the row in the dataset, from 1; stable across versions.' }) index!: number;
  @ApiProperty({ description: 'The version that added the row.' }) version!: number;
  @ApiProperty() input!: unknown;
  @ApiProperty({ nullable: true }) expected!: unknown;
  @ApiProperty({ type: Object }) metadata!: Record<string, unknown>;
}

export class RejectedRowView {
  @ApiProperty({ description: 'Line of the uploaded file, from 1.' }) line!: number;
  @ApiProperty() message!: string;
}

export class DatasetUploadView {
  @ApiProperty({ type: DatasetView }) dataset!: DatasetView;
  @ApiProperty({ description: 'Rows kept (they form the new version).' }) accepted!: number;
  @ApiProperty({ type: [RejectedRowView], description: 'Lines that were not rows, with why; the others were kept.' }) rejected!: RejectedRowView[];
}

export interface AddDatasetRowsInput {
  id: string;
  rows: DatasetRowDto[];
}

export interface UploadDatasetRowsInput extends UploadDatasetRowsDto {
  id: string;
}

export interface DatasetRowsInput extends DatasetRowsQueryDto {
  id: string;
}
