import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { PromptDto } from './playground.js';
import { pageQuery, ROW_PAGE_BOUNDS } from './page-query.js';

/** The task run on each row: a model called through the gateway with a Mustache-templated prompt ({{input}}, {{expected}}, {{metadata.<field>}}). */
export class EvaluationTaskDto extends PromptDto {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'A model name clients use (a provider model).' })
  @IsString()
  @Length(1, 128)
  model!: string;
}

export const SCORER_TYPES = ['exact_match', 'levenshtein', 'numeric_diff', 'valid_json', 'llm_judge'] as const;
export type ScorerType = (typeof SCORER_TYPES)[number];

/** An LLM-as-a-judge classifier (autoevals LLMClassifierFromSpec): the judge picks one of the choices. */
export class JudgeSpecDto {
  @ApiProperty({ description: 'Any provider model, called through this gateway.', example: 'gpt-4o' })
  @IsString()
  @Length(1, 128)
  model!: string;

  @ApiProperty({
    description: 'Mustache template of the judge prompt: {{input}}, {{output}}, {{expected}}, {{metadata.<field>}}.',
    example: 'Question: {{input}}\nAnswer: {{output}}\nIs the answer relevant to the question?',
  })
  @IsString()
  @Length(1, 100_000)
  promptTemplate!: string;

  @ApiProperty({ description: 'Choice -> score in [0, 1].', example: { Relevant: 1, Irrelevant: 0 } })
  @IsObject()
  choiceScores!: Record<string, number>;

  @ApiPropertyOptional({ description: 'Ask the judge to reason before choosing; the reasoning is stored with the score.', default: true })
  @IsOptional()
  @IsBoolean()
  useCot?: boolean;
}

export class ScorerDto {
  @ApiProperty({ enum: SCORER_TYPES, description: 'valid_json checks JSON validity and, with `schema`, the JSON schema.' })
  @IsIn(SCORER_TYPES)
  type!: ScorerType;

  @ApiPropertyOptional({ description: 'Name of the score in results (default: the type); unique within a run.', example: 'relevance' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  name?: string;

  @ApiPropertyOptional({ type: Object, description: 'valid_json: the JSON schema the output must satisfy.' })
  @IsOptional()
  @IsObject()
  schema?: Record<string, unknown>;

  @ApiPropertyOptional({ type: JudgeSpecDto, description: 'llm_judge: the classifier spec.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => JudgeSpecDto)
  judge?: JudgeSpecDto;
}

export class CreateEvaluationRunDto {
  @ApiProperty()
  @IsString()
  @Length(1, 64)
  datasetId!: string;

  @ApiPropertyOptional({ description: 'The dataset version to run on (default: the latest); the run keeps it.', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  datasetVersion?: number;

  @ApiPropertyOptional({ example: 'gpt-4o-mini, terse prompt' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiProperty({ type: EvaluationTaskDto })
  @ValidateNested()
  @Type(() => EvaluationTaskDto)
  task!: EvaluationTaskDto;

  @ApiProperty({ type: [ScorerDto] })
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ScorerDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  scorers!: ScorerDto[];

  @ApiPropertyOptional({ description: 'Rows in flight at once.', minimum: 1, maximum: 32, default: 4 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32)
  concurrency?: number;
}

export type EvaluationRunStatus = 'running' | 'succeeded' | 'cancelled' | 'failed';

export class ScoreSummaryView {
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Rows with a score.' }) count!: number;
  @ApiProperty({ description: 'Rows where the scorer failed (e.g. an unparseable judge answer).' }) errors!: number;
  @ApiProperty({ type: Number, nullable: true }) mean!: number | null;
  @ApiProperty({ type: Number, nullable: true }) min!: number | null;
  @ApiProperty({ type: Number, nullable: true }) max!: number | null;
  @ApiProperty({ description: 'Scores in ten buckets [0, 0.1), [0.1, 0.2), ..., [0.9, 1].', type: [Number] }) histogram!: number[];
}

export class EvaluationRunView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty() datasetId!: string;
  @ApiProperty() datasetVersion!: number;
  @ApiProperty({ type: EvaluationTaskDto }) task!: EvaluationTaskDto;
  @ApiProperty({ type: [ScorerDto] }) scorers!: ScorerDto[];
  @ApiProperty() concurrency!: number;
  @ApiProperty({ enum: ['running', 'succeeded', 'cancelled', 'failed'] }) status!: EvaluationRunStatus;
  @ApiProperty({ description: 'Rows of the dataset version.' }) rowsTotal!: number;
  @ApiProperty({ description: 'Rows finished (with or without an error).' }) rowsDone!: number;
  @ApiProperty({ description: 'Rows whose task call failed.' }) rowsErrored!: number;
  @ApiProperty({ type: [ScoreSummaryView] }) scores!: ScoreSummaryView[];
  @ApiProperty({ type: String, nullable: true, description: 'Exact decimal: the cost metering priced for the rows so far (task and judge calls).' }) totalCost!: string | null;
  @ApiProperty({ description: 'Rows whose cost metering has not priced (yet).' }) rowsUnpriced!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: String, nullable: true }) finishedAt!: string | null;
}

export class RowScoreView {
  @ApiProperty() name!: string;
  @ApiProperty({ type: Number, nullable: true }) score!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why there is no score (e.g. the judge answered no valid choice).' }) error!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'llm_judge: the judge\'s choice.' }) choice?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'llm_judge with use_cot: the judge\'s reasoning.' }) reasoning?: string | null;
}

export class EvaluationResultView {
  @ApiProperty({ description: 'The dataset row\'s index.' }) rowIndex!: number;
  @ApiProperty() input!: unknown;
  @ApiProperty({ nullable: true }) expected!: unknown;
  @ApiProperty({ type: String, nullable: true }) output!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the task call failed.' }) error!: string | null;
  @ApiProperty({ type: [RowScoreView] }) scores!: RowScoreView[];
  @ApiProperty() latencyMs!: number;
  @ApiProperty({ type: Number, nullable: true }) inputTokens!: number | null;
  @ApiProperty({ type: Number, nullable: true }) outputTokens!: number | null;
  @ApiProperty({ description: 'The W3C trace id of the row\'s calls (task and judges); metering prices them under it.' }) traceId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Exact decimal from metering; null while unpriced.' }) cost!: string | null;
}

class CompareRunIdsQueryDto {
  @ApiProperty({ description: 'Two or more run ids on the same dataset, comma-separated; the first is the baseline.', example: 'evr_a,evr_b' })
  @IsString()
  @Length(3, 2000)
  runIds!: string;
}

export class CompareRunsQueryDto extends IntersectionType(CompareRunIdsQueryDto, pageQuery({ ...ROW_PAGE_BOUNDS, defaultLimit: 200 })) {}

export class RowComparisonView {
  @ApiProperty() rowIndex!: number;
  @ApiProperty() input!: unknown;
  @ApiProperty({ type: [String], nullable: true, description: 'Each run\'s output, in the order of runIds (null: no result or an error).' }) outputs!: (string | null)[];
  @ApiProperty({ type: Object, description: 'Score name -> each run\'s score in the order of runIds.' }) scores!: Record<string, (number | null)[]>;
  @ApiProperty({ type: Object, description: 'Score name -> each later run\'s score minus the baseline\'s (null when either is missing).' }) deltas!: Record<string, (number | null)[]>;
  @ApiProperty({ enum: ['improved', 'regressed', 'mixed', 'unchanged'], description: 'Of the later runs against the baseline, over all scores.' })
  change!: 'improved' | 'regressed' | 'mixed' | 'unchanged';
}

export class RunComparisonView {
  @ApiProperty({ type: [String] }) runIds!: string[];
  @ApiProperty() datasetId!: string;
  @ApiProperty({ type: [EvaluationRunView] }) runs!: EvaluationRunView[];
  @ApiProperty({ description: 'Rows better in a later run than the baseline on at least one score and worse on none (over all rows, not just this page).' }) improved!: number;
  @ApiProperty() regressed!: number;
  @ApiProperty() mixed!: number;
  @ApiProperty() unchanged!: number;
  @ApiProperty({ type: [RowComparisonView], description: 'The rows that differ, in row order.' }) rows!: RowComparisonView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export interface EvaluationResultsInput {
  id: string;
  limit?: number;
  cursor?: string;
}

export interface CompareRunsInput {
  runIds: string[];
  limit?: number;
  cursor?: string;
}
