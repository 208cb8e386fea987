from creditguard_alerts.database import Base
from creditguard_alerts.models import load_all_models
from creditguard_shared.migrations import run_env

load_all_models()
run_env(Base.metadata)
