from creditguard_console.database import Base
from creditguard_console.models import load_all_models
from creditguard_shared.migrations import run_env

load_all_models()
run_env(Base.metadata)
