"""The built-in providers' profiles: declared as a plugin's would be (and listed under the
`corthex.providers` entry point group in pyproject), registered on first use of the registry."""

from __future__ import annotations

from corthex.domain.bedrock_models import OWN_PREFIXES
from corthex.domain.limits import (
    ANTHROPIC_BODY_MAX_BYTES,
    AZURE_FILE_MAX_BYTES,
    AZURE_FILE_MAX_LINES,
    ENVELOPE_MARGIN,
    GEMINI_FILE_MAX_BYTES,
    GEMINI_REQUEST_MAX_BYTES,
    MISTRAL_FILE_MAX_BYTES,
    MISTRAL_FILE_MAX_LINES,
    MISTRAL_REQUEST_MAX_BYTES,
    OPENAI_EMBEDDING_INPUTS_MAX,
    OPENAI_FILE_MAX_BYTES,
    OPENAI_FILE_MAX_LINES,
)
from corthex.domain.registry import ProviderLimits, ProviderName, ProviderProfile, WireFamily

#: Vertex AI: "a single input file up to 1 GB" (docs/wire/platforms.md §3.5)
VERTEX_FILE_MAX_BYTES = 1_000_000_000

OPENAI = ProviderProfile(
    name=ProviderName.OPENAI,
    family=WireFamily.OPENAI,
    title="OpenAI",
    # A JSONL file has no envelope: its bytes are the sum of its lines.
    limits=ProviderLimits(
        OPENAI_FILE_MAX_LINES, OPENAI_FILE_MAX_BYTES, True, OPENAI_FILE_MAX_BYTES, OPENAI_EMBEDDING_INPUTS_MAX
    ),
    adapter="corthex.providers.openai:OpenAIProvider",
    wire_module="corthex.providers.wire.openai",
    model_prefixes=("gpt-", "chatgpt-", "text-embedding-", "o1", "o3", "o4"),
    price_provider="openai",
    key_variables=("OPENAI_API_KEY",),
    base_url_variable="OPENAI_BASE_URL",
    builtin=True,
    source="built-in",
)

ANTHROPIC = ProviderProfile(
    name=ProviderName.ANTHROPIC,
    family=WireFamily.ANTHROPIC,
    title="Anthropic",
    limits=ProviderLimits(
        100_000, ANTHROPIC_BODY_MAX_BYTES - ENVELOPE_MARGIN, False, ANTHROPIC_BODY_MAX_BYTES - ENVELOPE_MARGIN
    ),
    adapter="corthex.providers.anthropic:AnthropicProvider",
    wire_module="corthex.providers.wire.anthropic",
    model_prefixes=("claude-",),
    price_provider="anthropic",
    key_variables=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
    base_url_variable="ANTHROPIC_BASE_URL",
    builtin=True,
    source="built-in",
)

GEMINI = ProviderProfile(
    name=ProviderName.GEMINI,
    family=WireFamily.GEMINI,
    title="Gemini Developer API",
    # Planned as files (≤2 GB); the adapter sends a batch inline only when its inline body fits.
    limits=ProviderLimits(100_000, GEMINI_FILE_MAX_BYTES, True, GEMINI_REQUEST_MAX_BYTES, inputs_are_lines=True),
    adapter="corthex.providers.gemini:GeminiProvider",
    wire_module="corthex.providers.wire.gemini",
    model_prefixes=("gemini-", "models/gemini-"),
    price_provider="google",
    key_variables=("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    base_url_variable="GOOGLE_GEMINI_BASE_URL",
    builtin=True,
    source="built-in",
)

AZURE = ProviderProfile(
    name=ProviderName.AZURE,
    family=WireFamily.OPENAI,
    title="Azure OpenAI",
    # Global Batch: 100,000 requests and 200 MB per file; one deployment per file (model_mismatch).
    # No batch embeddings on Azure (how-to/batch.md FAQ): no embedding-input limit to plan for.
    limits=ProviderLimits(AZURE_FILE_MAX_LINES, AZURE_FILE_MAX_BYTES, True, AZURE_FILE_MAX_BYTES),
    adapter="corthex.providers.azure:AzureProvider",
    wire_module="corthex.providers.wire.openai",
    model_prefixes=(),  # OpenAI's models stay OpenAI's: a line's "provider" or a route picks Azure
    discount=0.5,  # "50% less cost than global standard" (how-to/batch.md)
    price_provider="azure",  # genai-prices' "azure" (its Global prices, OpenAI's as fallback)
    key_variables=("AZURE_OPENAI_API_KEY",),
    base_url_variable="AZURE_OPENAI_ENDPOINT",
    # Azure takes "24h" only: another window fails the job (how-to/batch.md)
    options={"file_purpose": "batch", "completion_window": "24h"},
    models_of=ProviderName.OPENAI,
    builtin=True,
    source="built-in",
)

#: Bedrock's batch quotas (docs/wire/platforms.md §2.5): at least 100 and at most 50,000 records a
#: job, an input file of at most 1 GB (the job's 5 GB is larger, one file a job here).
BEDROCK_MIN_RECORDS = 100
BEDROCK_MAX_RECORDS = 50_000
BEDROCK_FILE_MAX_BYTES = 1_000_000_000
#: one record: Claude's request payload limit (32 MB, Anthropic's docs); Bedrock publishes no
#: per-record figure for batch (UNVERIFIED), and this keeps the largest line we take unchanged
BEDROCK_RECORD_MAX_BYTES = 32 * 1024 * 1024

BEDROCK = ProviderProfile(
    name=ProviderName("bedrock"),
    family=WireFamily.ANTHROPIC,
    title="Amazon Bedrock (batch inference)",
    # One model a job (the job's modelId); one JSONL file in S3.
    limits=ProviderLimits(BEDROCK_MAX_RECORDS, BEDROCK_FILE_MAX_BYTES, True, BEDROCK_RECORD_MAX_BYTES),
    adapter="corthex.providers.bedrock:BedrockProvider",
    wire_module="corthex.providers.wire.bedrock",
    model_prefixes=OWN_PREFIXES,  # Bedrock's own ids; neutral claude-* go by "provider" or a route
    price_provider="aws",
    # boto3's: keys (or a profile / role, which botocore finds itself) or Bedrock's bearer API key
    key_variables=("AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE"),
    base_url_variable="AWS_ENDPOINT_URL_BEDROCK",
    options={
        "region_variable": "AWS_REGION",
        "role_variable": "CORTHEX_BEDROCK_ROLE_ARN",
        "s3_variable": "CORTHEX_BEDROCK_S3_URI",
        "min_records": str(BEDROCK_MIN_RECORDS),
    },
    models_of=ProviderName.ANTHROPIC,
    builtin=True,
    source="built-in",
)

#: Vertex AI batch prediction (docs/wire/platforms.md §3.5): 200,000 requests and a 1 GB input
#: file per job, 50% off. Neutral Gemini ids go to it by a route or `"provider": "vertex"`; the
#: ids it owns are Vertex's own (`publishers/google/models/gemini-…`).
VERTEX = ProviderProfile(
    name=ProviderName("vertex"),
    family=WireFamily.GEMINI,
    title="Vertex AI (Gemini batch prediction)",
    # one request: the Gemini API's own request limit (Vertex's per-line limit is not documented)
    limits=ProviderLimits(200_000, VERTEX_FILE_MAX_BYTES, True, GEMINI_REQUEST_MAX_BYTES),
    adapter="corthex.providers.vertex:VertexProvider",
    wire_module="corthex.providers.wire.vertex",
    model_prefixes=("publishers/google/models/gemini-",),
    discount=0.5,
    price_provider="google",
    key_variables=("CORTHEX_VERTEX_ACCESS_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"),
    base_url_variable="GOOGLE_VERTEX_BASE_URL",
    options={"settings": "GOOGLE_CLOUD_PROJECT GOOGLE_CLOUD_LOCATION CORTHEX_VERTEX_GCS_URI"},
    models_of=ProviderName.GEMINI,
    builtin=True,
    source="built-in",
)

MISTRAL = ProviderProfile(
    name=ProviderName("mistral"),
    # Its chat body is OpenAI's chat body with a few names changed (providers/wire/mistral.py):
    # admitted by OpenAI's rules, sized by its own wire module.
    family=WireFamily.OPENAI,
    title="Mistral",
    limits=ProviderLimits(MISTRAL_FILE_MAX_LINES, MISTRAL_FILE_MAX_BYTES, True, MISTRAL_REQUEST_MAX_BYTES),
    adapter="corthex.providers.mistral:MistralProvider",
    wire_module="corthex.providers.wire.mistral",
    model_prefixes=(
        "mistral-",
        "magistral-",
        "codestral-",
        "devstral-",
        "ministral-",
        "open-mistral-",
        "open-mixtral-",
        "pixtral-",
    ),
    discount=0.5,  # "at a 50% discount" (https://docs.mistral.ai/studio-api/batch-processing)
    price_provider="mistral",
    key_variables=("MISTRAL_API_KEY",),
    base_url_variable="MISTRAL_BASE_URL",
    base_url="https://api.mistral.ai",  # the SDK's only server (mistralai/client/sdkconfiguration.py)
    builtin=True,
    source="built-in",
)

BUILTINS = (OPENAI, ANTHROPIC, GEMINI, AZURE, VERTEX, MISTRAL, BEDROCK)
