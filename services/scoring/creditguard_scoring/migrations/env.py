from creditguard_scoring.database import Base
from creditguard_scoring.models import load_all_models
from creditguard_shared.migrations import run_env

load_all_models()
run_env(Base.metadata)
