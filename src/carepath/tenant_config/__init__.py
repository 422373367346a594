"""A tenant as code: one YAML file declares its skills, queues, routing rules, business hours,
channels, intents, agents and the contact strategy map; `carepath tenant apply` validates it whole
and stores it as a new version."""

from carepath.tenant_config.model import TenantConfig, check_config, parse_tenant_config
from carepath.tenant_config.strategy import Treatment, TreatmentKind, treatment_for

__all__ = [
    "TenantConfig",
    "Treatment",
    "TreatmentKind",
    "check_config",
    "parse_tenant_config",
    "treatment_for",
]
